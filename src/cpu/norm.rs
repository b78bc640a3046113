use crate::error::{Error, Result};
use crate::graph::Tensor;

use super::parallel;

/// Mean and population variance of one channel plane, in f64 so a whole large image sums without drift.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ChannelStats {
    pub mean: f64,
    pub var: f64,
}

/// Every channel's statistics: one pass per plane, shifted by an estimate of its mean, in f32 lanes over short
/// chunks and f64 across them; planes split across threads natively. `channel_stats_plain` is its reference.
pub(crate) fn channel_stats(x: &Tensor) -> Vec<ChannelStats> {
    let plane = x.shape.plane().max(1);
    let mut planes: Vec<(&[f32], ChannelStats)> =
        x.data.chunks(plane).map(|values| (values, ChannelStats { mean: 0.0, var: 0.0 })).collect();
    parallel::for_each(&mut planes, x.data.len(), |_, (values, stats)| *stats = plane_stats(values));
    planes.into_iter().map(|(_, stats)| stats).collect()
}

/// Values summed in f32 before the running sums move to f64: short enough that f32 rounding stays near 1e-7
/// relative, long enough for the lanes to run at full speed.
const CHUNK: usize = 1024;

fn plane_stats(values: &[f32]) -> ChannelStats {
    let n = values.len();
    // The mean of a few evenly spaced values: sums of (x - shift) and (x - shift)^2 then cancel little.
    let step = n.div_ceil(64).max(1);
    let samples = values.iter().step_by(step);
    let count = samples.len().max(1);
    let shift = (samples.map(|&v| v as f64).sum::<f64>() / count as f64) as f32;
    let (mut sum, mut squares) = (0.0f64, 0.0f64);
    for chunk in values.chunks(CHUNK) {
        // Eight independent lanes, which the compiler keeps in vector registers.
        let mut s = [0.0f32; 8];
        let mut q = [0.0f32; 8];
        let mut lanes = chunk.chunks_exact(8);
        for group in &mut lanes {
            for i in 0..8 {
                let d = group[i] - shift;
                s[i] += d;
                q[i] += d * d;
            }
        }
        for &v in lanes.remainder() {
            let d = v - shift;
            s[0] += d;
            q[0] += d * d;
        }
        sum += s.iter().map(|&v| v as f64).sum::<f64>();
        squares += q.iter().map(|&v| v as f64).sum::<f64>();
    }
    let mean_shifted = sum / n as f64;
    ChannelStats { mean: shift as f64 + mean_shifted, var: (squares / n as f64 - mean_shifted * mean_shifted).max(0.0) }
}

/// How much each pixel counts in the instance norms' statistics, at the network's input size: a product's matte,
/// so a product on a studio backdrop is normalised against itself, not against the white around it. Each norm
/// layer takes it at its own resolution, averaged over the input pixels each of its pixels stands for. All ones
/// gives the plain statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct NormWeights {
    width: usize,
    height: usize,
    plane: Vec<f32>,
}

impl NormWeights {
    /// Weights in 0..1 for a `width x height` input, row by row.
    pub fn new(width: usize, height: usize, plane: Vec<f32>) -> Result<Self> {
        if plane.len() != width * height || plane.iter().any(|w| !(0.0..=1.0).contains(w)) {
            return Err(Error::internal("norm weights must be one value in 0..1 per input pixel"));
        }
        Ok(NormWeights { width, height, plane })
    }

    /// The weights at a layer of `height x width`, whose pixels each stand for a square of input pixels.
    pub(crate) fn at(&self, height: usize, width: usize) -> Result<Vec<f32>> {
        let scale = self.width / width.max(1);
        if scale == 0 || width * scale != self.width || height * scale != self.height {
            return Err(Error::internal(format!(
                "a layer of {width}x{height} does not divide the weights' {}x{}",
                self.width, self.height
            )));
        }
        if scale == 1 {
            return Ok(self.plane.clone());
        }
        let inv = 1.0 / (scale * scale) as f32;
        let mut out = vec![0.0f32; width * height];
        for (y, row) in out.chunks_mut(width).enumerate() {
            for (x, value) in row.iter_mut().enumerate() {
                let mut sum = 0.0f32;
                for dy in 0..scale {
                    sum += self.plane[(y * scale + dy) * self.width + x * scale..][..scale].iter().sum::<f32>();
                }
                *value = sum * inv;
            }
        }
        Ok(out)
    }
}

/// Every channel's statistics with each pixel counted by its weight (`weights` at the tensor's resolution): the
/// weighted mean and population variance, shifted by an estimate of the mean and summed in f64 per chunk, as
/// `channel_stats` does. With no weight anywhere the plain statistics stand.
pub(crate) fn channel_stats_weighted(x: &Tensor, weights: &[f32]) -> Vec<ChannelStats> {
    let plane = x.shape.plane().max(1);
    let total: f64 = weights.iter().map(|&w| f64::from(w)).sum();
    if weights.len() != plane || total <= 0.0 {
        return channel_stats(x);
    }
    let mut planes: Vec<(&[f32], ChannelStats)> =
        x.data.chunks(plane).map(|values| (values, ChannelStats { mean: 0.0, var: 0.0 })).collect();
    parallel::for_each(&mut planes, x.data.len(), |_, (values, stats)| {
        *stats = weighted_plane_stats(values, weights, total)
    });
    planes.into_iter().map(|(_, stats)| stats).collect()
}

fn weighted_plane_stats(values: &[f32], weights: &[f32], total: f64) -> ChannelStats {
    let plain = plane_stats(values);
    let shift = plain.mean as f32;
    let (mut sum, mut squares) = (0.0f64, 0.0f64);
    for (chunk, chunk_weights) in values.chunks(CHUNK).zip(weights.chunks(CHUNK)) {
        let (mut s, mut q) = (0.0f32, 0.0f32);
        for (&v, &w) in chunk.iter().zip(chunk_weights) {
            let d = v - shift;
            s += w * d;
            q += w * d * d;
        }
        sum += f64::from(s);
        squares += f64::from(q);
    }
    let mean_shifted = sum / total;
    ChannelStats {
        mean: f64::from(shift) + mean_shifted,
        var: (squares / total - mean_shifted * mean_shifted).max(0.0),
    }
}

/// The plain weighted statistics in f64: the reference for `channel_stats_weighted`.
#[cfg(test)]
pub(crate) fn channel_stats_weighted_plain(x: &Tensor, weights: &[f32]) -> Vec<ChannelStats> {
    let plane = x.shape.plane().max(1);
    let total: f64 = weights.iter().map(|&w| f64::from(w)).sum();
    x.data
        .chunks(plane)
        .map(|values| {
            let weighted = values.iter().zip(weights).map(|(&v, &w)| (f64::from(v), f64::from(w)));
            let mean = weighted.clone().map(|(v, w)| v * w).sum::<f64>() / total;
            let var = weighted.map(|(v, w)| w * (v - mean).powi(2)).sum::<f64>() / total;
            ChannelStats { mean, var }
        })
        .collect()
}

/// The plain statistics, in f64 throughout (mean, then the centred variance): the reference for `channel_stats`.
#[cfg(test)]
pub(crate) fn channel_stats_plain(x: &Tensor) -> Vec<ChannelStats> {
    let plane = x.shape.plane().max(1);
    x.data
        .chunks(plane)
        .map(|values| {
            let n = values.len() as f64;
            let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
            let var = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
            ChannelStats { mean, var }
        })
        .collect()
}

/// The per-channel `x * scale + shift` an instance norm with these statistics amounts to.
pub(crate) fn norm_as_affine(stats: &[ChannelStats], gamma: &[f32], beta: &[f32], eps: f32) -> (Vec<f32>, Vec<f32>) {
    stats
        .iter()
        .zip(gamma.iter().zip(beta))
        .map(|(s, (&g, &b))| {
            let scale = g as f64 / (s.var + eps as f64).sqrt();
            (scale as f32, (b as f64 - s.mean * scale) as f32)
        })
        .unzip()
}

/// Instance norm with statistics already taken (over the whole image, when `x` is part of it): one f32
/// multiply-add per value, planes split across threads natively. `instance_norm_with_plain` is its reference.
pub(crate) fn instance_norm_with(x: &mut Tensor, stats: &[ChannelStats], gamma: &[f32], beta: &[f32], eps: f32) {
    let plane = x.shape.plane().max(1);
    // `(x - mean) * scale + beta`: centring first keeps f32 exact where a tiny variance makes the scale large.
    let affine: Vec<(f32, f32, f32)> = stats
        .iter()
        .zip(gamma.iter().zip(beta))
        .map(|(s, (&g, &b))| (s.mean as f32, (g as f64 / (s.var + eps as f64).sqrt()) as f32, b))
        .collect();
    let mut planes: Vec<&mut [f32]> = x.data.chunks_mut(plane).collect();
    let work = planes.len() * plane;
    parallel::for_each(&mut planes, work, |c, values| {
        let Some(&(mean, scale, beta)) = affine.get(c) else { return };
        values.iter_mut().for_each(|v| *v = (*v - mean) * scale + beta);
    });
}

/// The plain normalisation, in f64 per value: the reference for `instance_norm_with`.
#[cfg(test)]
pub(crate) fn instance_norm_with_plain(x: &mut Tensor, stats: &[ChannelStats], gamma: &[f32], beta: &[f32], eps: f32) {
    let plane = x.shape.plane().max(1);
    for (c, (values, s)) in x.data.chunks_mut(plane).zip(stats).enumerate() {
        let scale = gamma[c] as f64 / (s.var + eps as f64).sqrt();
        let shift = beta[c] as f64 - s.mean * scale;
        values.iter_mut().for_each(|v| *v = (*v as f64 * scale + shift) as f32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Shape;

    /// Planes with an offset far from zero, a spread that is small beside it, odd lengths, one value, constants.
    fn planes() -> Vec<Tensor> {
        let mut state = 12345u32;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state % 20_000) as f32 / 10_000.0 - 1.0
        };
        let shapes = [Shape::new(3, 37, 53), Shape::new(5, 1, 1), Shape::new(2, 300, 301), Shape::new(4, 8, 9)];
        let offsets = [0.0f32, 40.0, -3.0, 7.5];
        shapes
            .iter()
            .zip(offsets)
            .enumerate()
            .map(|(i, (&shape, offset))| {
                let data = (0..shape.len())
                    .map(|j| if i == 3 && j < shape.plane() { 2.5 } else { offset + next() * (1.0 + i as f32) })
                    .collect();
                Tensor::from_vec(shape, data).unwrap()
            })
            .collect()
    }

    #[test]
    fn fast_statistics_match_the_plain_ones() {
        for x in planes() {
            for (fast, plain) in channel_stats(&x).iter().zip(channel_stats_plain(&x)) {
                let scale = plain.mean.abs().max(1.0);
                assert!((fast.mean - plain.mean).abs() <= 1e-6 * scale, "mean {fast:?} vs {plain:?} ({:?})", x.shape);
                assert!(
                    (fast.var - plain.var).abs() <= 1e-5 * plain.var + 1e-9,
                    "var {fast:?} vs {plain:?} ({:?})",
                    x.shape
                );
            }
        }
    }

    #[test]
    fn fast_normalisation_matches_the_plain_one() {
        for x in planes() {
            let c = x.shape.channels;
            let gamma: Vec<f32> = (0..c).map(|i| 0.5 + i as f32 * 0.3).collect();
            let beta: Vec<f32> = (0..c).map(|i| i as f32 * 0.2 - 0.4).collect();
            let stats = channel_stats_plain(&x);
            let (mut fast, mut plain) = (x.clone(), x.clone());
            instance_norm_with(&mut fast, &stats, &gamma, &beta, 1e-5);
            instance_norm_with_plain(&mut plain, &stats, &gamma, &beta, 1e-5);
            let worst =
                fast.data.iter().zip(&plain.data).fold(0.0f32, |m, (a, b)| m.max((a - b).abs() / b.abs().max(1.0)));
            assert!(worst <= 1e-5, "{:?}: {worst}", x.shape);
        }
    }

    #[test]
    fn weighted_statistics_match_the_plain_ones_and_all_ones_gives_the_unweighted() {
        for x in planes() {
            let plane = x.shape.plane();
            let weights: Vec<f32> = (0..plane).map(|i| ((i * 37 + 3) % 11) as f32 / 10.0).collect();
            for (fast, plain) in
                channel_stats_weighted(&x, &weights).iter().zip(channel_stats_weighted_plain(&x, &weights))
            {
                let scale = plain.mean.abs().max(1.0);
                assert!((fast.mean - plain.mean).abs() <= 1e-6 * scale, "mean {fast:?} vs {plain:?} ({:?})", x.shape);
                assert!((fast.var - plain.var).abs() <= 1e-5 * plain.var + 1e-9, "var {fast:?} vs {plain:?}");
            }
            // No weight anywhere: the plain statistics stand.
            let zeros = vec![0.0f32; plane];
            assert_eq!(channel_stats_weighted(&x, &zeros), channel_stats(&x));
            let ones = vec![1.0f32; plane];
            for (weighted, plain) in channel_stats_weighted(&x, &ones).iter().zip(channel_stats_plain(&x)) {
                let scale = plain.mean.abs().max(1.0);
                assert!((weighted.mean - plain.mean).abs() <= 1e-6 * scale);
                assert!((weighted.var - plain.var).abs() <= 1e-5 * plain.var + 1e-9);
            }
        }
    }

    #[test]
    fn weights_average_down_to_each_layer() {
        let weights = NormWeights::new(4, 2, vec![1.0, 0.0, 0.5, 0.5, 1.0, 0.0, 0.0, 1.0]).unwrap();
        assert_eq!(weights.at(1, 2).unwrap(), vec![0.5, 0.5]);
        assert_eq!(weights.at(2, 4).unwrap().len(), 8);
        assert!(weights.at(1, 3).is_err());
        assert!(NormWeights::new(2, 2, vec![1.5; 4]).is_err());
    }
}
