use crate::error::{Error, Result};
use crate::graph::{Shape, Tensor};

use super::parallel;

/// Values per task when an elementwise op is spread over threads.
const CHUNK: usize = 1 << 16;

/// `f` on every value, in chunks spread over threads natively.
fn each(values: &mut [f32], f: impl Fn(&mut f32) + Sync) {
    let work = values.len();
    let mut chunks: Vec<&mut [f32]> = values.chunks_mut(CHUNK).collect();
    parallel::for_each(&mut chunks, work, |_, chunk| chunk.iter_mut().for_each(&f));
}

pub(crate) fn relu(x: &mut Tensor) {
    each(&mut x.data, |v| *v = v.max(0.0));
}

pub(crate) fn sigmoid(x: &mut Tensor) {
    each(&mut x.data, |v| *v = 1.0 / (1.0 + (-*v).exp()));
}

pub(crate) fn add(a: &mut Tensor, b: &Tensor) -> Result<()> {
    if a.shape != b.shape {
        return Err(Error::internal(format!("cannot add {:?} and {:?}", a.shape, b.shape)));
    }
    let work = a.data.len();
    let mut chunks: Vec<(&mut [f32], &[f32])> = a.data.chunks_mut(CHUNK).zip(b.data.chunks(CHUNK)).collect();
    parallel::for_each(&mut chunks, work, |_, (x, y)| x.iter_mut().zip(y.iter()).for_each(|(x, y)| *x += y));
    Ok(())
}

/// Nearest-neighbour upsampling by an integer factor: each value becomes a factor x factor block. Each output row
/// is written once and copied `factor - 1` times.
pub fn upsample_nearest(x: &Tensor, factor: usize) -> Tensor {
    let Shape { channels, height, width } = x.shape;
    // Every value is written below.
    let shape = Shape::new(channels, height * factor, width * factor);
    let mut out = Tensor { shape, data: super::pool::take(shape.len()) };
    let out_w = width * factor;
    if out.data.is_empty() {
        return out;
    }
    for (src, block) in x.data.chunks_exact(width).zip(out.data.chunks_exact_mut(out_w * factor)) {
        let (first, rest) = block.split_at_mut(out_w);
        for (dst, &v) in first.chunks_exact_mut(factor).zip(src) {
            dst.fill(v);
        }
        for row in rest.chunks_exact_mut(out_w) {
            row.copy_from_slice(first);
        }
    }
    debug_assert_eq!(x.data.len() / width, channels * height);
    out
}

/// `min(max(x, min), max)`: ReLU6 with `0, 6`.
pub(crate) fn clip(t: &mut Tensor, min: f32, max: f32) {
    each(&mut t.data, |v| *v = v.clamp(min, max));
}

/// The mean of each channel plane, summed in f64: `[C, H, W] -> [C, 1, 1]`.
pub fn global_avg_pool(t: &Tensor) -> Tensor {
    let plane = t.shape.plane().max(1);
    let data =
        t.data.chunks(plane).map(|p| (p.iter().map(|&v| f64::from(v)).sum::<f64>() / plane as f64) as f32).collect();
    Tensor { shape: Shape::new(t.shape.channels, 1, 1), data }
}

/// `x * scale[c] + shift[c]` per channel plane.
pub(crate) fn channel_affine(t: &mut Tensor, scale: &[f32], shift: &[f32]) {
    let plane = t.shape.plane().max(1);
    for ((values, &a), &b) in t.data.chunks_mut(plane).zip(scale).zip(shift) {
        values.iter_mut().for_each(|v| *v = *v * a + b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain upsampling, one output value at a time.
    fn upsample_plain(x: &Tensor, factor: usize) -> Tensor {
        let Shape { channels, height, width } = x.shape;
        let mut out = Tensor::zeros(Shape::new(channels, height * factor, width * factor));
        let out_w = width * factor;
        for c in 0..channels {
            for y in 0..height * factor {
                for xo in 0..out_w {
                    out.data[(c * height * factor + y) * out_w + xo] =
                        x.data[(c * height + y / factor) * width + xo / factor];
                }
            }
        }
        out
    }

    #[test]
    fn upsampling_matches_the_plain_loop() {
        for (shape, factor) in
            [(Shape::new(3, 5, 7), 2), (Shape::new(2, 1, 1), 3), (Shape::new(1, 4, 3), 1), (Shape::new(4, 2, 9), 4)]
        {
            let x = Tensor::from_vec(shape, (0..shape.len()).map(|i| i as f32 * 0.5 - 3.0).collect()).unwrap();
            assert_eq!(upsample_nearest(&x, factor), upsample_plain(&x, factor), "{shape:?} x{factor}");
        }
    }
}
