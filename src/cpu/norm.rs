use crate::graph::Tensor;

/// Mean and population variance of one channel plane, in f64 so a whole large image sums without drift.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChannelStats {
    pub mean: f64,
    pub var: f64,
}

/// Every channel's statistics.
pub fn channel_stats(x: &Tensor) -> Vec<ChannelStats> {
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
pub fn norm_as_affine(stats: &[ChannelStats], gamma: &[f32], beta: &[f32], eps: f32) -> (Vec<f32>, Vec<f32>) {
    stats
        .iter()
        .zip(gamma.iter().zip(beta))
        .map(|(s, (&g, &b))| {
            let scale = g as f64 / (s.var + eps as f64).sqrt();
            (scale as f32, (b as f64 - s.mean * scale) as f32)
        })
        .unzip()
}

/// Instance norm over each channel's whole plane, then the style's scale and shift:
/// `(x - mean) / sqrt(var + eps) * gamma + beta`, with the population variance.
pub fn instance_norm(x: &mut Tensor, gamma: &[f32], beta: &[f32], eps: f32) {
    let stats = channel_stats(x);
    instance_norm_with(x, &stats, gamma, beta, eps);
}

/// Instance norm with statistics already taken (over the whole image, when `x` is part of it).
pub fn instance_norm_with(x: &mut Tensor, stats: &[ChannelStats], gamma: &[f32], beta: &[f32], eps: f32) {
    let plane = x.shape.plane().max(1);
    for (c, (values, s)) in x.data.chunks_mut(plane).zip(stats).enumerate() {
        let scale = gamma[c] as f64 / (s.var + eps as f64).sqrt();
        let shift = beta[c] as f64 - s.mean * scale;
        values.iter_mut().for_each(|v| *v = (*v as f64 * scale + shift) as f32);
    }
}
