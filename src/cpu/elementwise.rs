use crate::error::{Error, Result};
use crate::graph::{Shape, Tensor};

pub fn relu(x: &mut Tensor) {
    x.data.iter_mut().for_each(|v| *v = v.max(0.0));
}

pub fn sigmoid(x: &mut Tensor) {
    x.data.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp()));
}

pub fn add(a: &mut Tensor, b: &Tensor) -> Result<()> {
    if a.shape != b.shape {
        return Err(Error::graph(format!("cannot add {:?} and {:?}", a.shape, b.shape)));
    }
    a.data.iter_mut().zip(&b.data).for_each(|(x, y)| *x += y);
    Ok(())
}

/// Nearest-neighbour upsampling by an integer factor: each value becomes a factor x factor block.
pub fn upsample_nearest(x: &Tensor, factor: usize) -> Tensor {
    let Shape { channels, height, width } = x.shape;
    let mut out = Tensor::zeros(Shape::new(channels, height * factor, width * factor));
    let out_w = width * factor;
    for c in 0..channels {
        for y in 0..height * factor {
            let src = &x.data[(c * height + y / factor) * width..][..width];
            let dst = &mut out.data[(c * height * factor + y) * out_w..][..out_w];
            for (xo, v) in dst.iter_mut().enumerate() {
                *v = src[xo / factor];
            }
        }
    }
    out
}

/// `min(max(x, min), max)`: ReLU6 with `0, 6`.
pub fn clip(t: &mut Tensor, min: f32, max: f32) {
    t.data.iter_mut().for_each(|v| *v = v.clamp(min, max));
}

/// The mean of each channel plane, summed in f64: `[C, H, W] -> [C, 1, 1]`.
pub fn global_avg_pool(t: &Tensor) -> Tensor {
    let plane = t.shape.plane().max(1);
    let data = t.data.chunks(plane).map(|p| (p.iter().map(|&v| f64::from(v)).sum::<f64>() / plane as f64) as f32).collect();
    Tensor { shape: Shape::new(t.shape.channels, 1, 1), data }
}

/// `x * scale[c] + shift[c]` per channel plane.
pub fn channel_affine(t: &mut Tensor, scale: &[f32], shift: &[f32]) {
    let plane = t.shape.plane().max(1);
    for ((values, &a), &b) in t.data.chunks_mut(plane).zip(scale).zip(shift) {
        values.iter_mut().for_each(|v| *v = *v * a + b);
    }
}
