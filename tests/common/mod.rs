//! What the integration tests share: PSNR, a seeded random source, which backends to test on, and reading the
//! reference fixtures.
//!
//! Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use vitrine::{Backend, Shape, Tensor};

/// PSNR in dB of values in 0..1 (Infinity when equal).
pub fn psnr_unit(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "PSNR of different lengths");
    let mse = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum::<f64>() / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (1.0 / mse).log10()
    }
}

/// PSNR in dB of 8-bit values, every byte counted (Infinity when equal).
pub fn psnr_u8(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "PSNR of different lengths");
    let mse = a.iter().zip(b).map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2)).sum::<f64>() / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64.powi(2) / mse).log10()
    }
}

/// Whether the GPU tests run: always, unless `VITRINE_SKIP_GPU_TESTS=1` (a machine without even a software
/// Vulkan driver).
pub fn gpu_wanted() -> bool {
    std::env::var("VITRINE_SKIP_GPU_TESTS").as_deref() != Ok("1")
}

/// The backends to compare: the CPU, and the GPU (lavapipe here) unless skipped.
pub fn backends() -> Vec<Backend> {
    if gpu_wanted() {
        vec![Backend::Cpu, Backend::Gpu]
    } else {
        vec![Backend::Cpu]
    }
}

/// xorshift64*: enough randomness for weights and inputs, and the same every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in -1..1.
    pub fn f32(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    pub fn i8(&mut self) -> i8 {
        (self.next() >> 56) as u8 as i8
    }

    pub fn tensor(&mut self, shape: Shape) -> Tensor {
        Tensor { shape, data: (0..shape.len()).map(|_| self.f32()).collect() }
    }
}

/// A fixture's f32 tensor `name` (little-endian), as its values.
pub fn f32s(tensors: &safetensors::SafeTensors, name: &str) -> Vec<f32> {
    let view = tensors.tensor(name).unwrap_or_else(|e| panic!("the fixture has no {name}: {e}"));
    view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// The network's planar output with its padding cropped off to `width x height`, as the fixtures store images.
pub fn crop_planar(output: &Tensor, width: usize, height: usize) -> Vec<f32> {
    let (padded_w, padded_h) = (output.shape.width, output.shape.height);
    let mut cropped = Vec::with_capacity(output.shape.channels * height * width);
    for c in 0..output.shape.channels {
        for y in 0..height {
            let row = (c * padded_h + y) * padded_w;
            cropped.extend_from_slice(&output.data[row..row + width]);
        }
    }
    cropped
}
