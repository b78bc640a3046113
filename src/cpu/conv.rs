use crate::graph::{Conv2d, PadMode, Padding, Shape, Tensor};

/// Index into a padded axis: reflect mirrors without repeating the edge; `None` is a zero-padded tap.
pub fn source_index(padded: isize, size: usize, mode: PadMode) -> Option<usize> {
    let n = size as isize;
    if (0..n).contains(&padded) {
        return Some(padded as usize);
    }
    match mode {
        PadMode::Zero => None,
        // Valid for |overhang| < size, which shape inference guarantees.
        PadMode::Reflect => Some(if padded < 0 { -padded } else { 2 * (n - 1) - padded } as usize),
    }
}

/// A padded copy of one channel plane, so the inner loop reads without bounds logic.
fn pad_plane(plane: &[f32], height: usize, width: usize, pad: Padding, mode: PadMode) -> Vec<f32> {
    let (ph, pw) = (height + pad.top + pad.bottom, width + pad.left + pad.right);
    let mut out = vec![0.0f32; ph * pw];
    for y in 0..ph {
        let Some(sy) = source_index(y as isize - pad.top as isize, height, mode) else { continue };
        for x in 0..pw {
            if let Some(sx) = source_index(x as isize - pad.left as isize, width, mode) {
                out[y * pw + x] = plane[sy * width + sx];
            }
        }
    }
    out
}

/// 2-D convolution: the GEMM kernel for ungrouped convolutions (every conv of the style networks), the direct
/// kernel for the rest.
pub fn conv2d(input: &Tensor, conv: &Conv2d) -> Tensor {
    if conv.groups == 1 {
        conv2d_gemm(input, conv)
    } else {
        conv2d_direct(input, conv)
    }
}

/// The plain kernel: int8 weights dequantised on the fly, stride, grouped channels, reflect or zero padding.
/// Obviously correct, and the reference the GEMM kernel is tested against.
pub fn conv2d_direct(input: &Tensor, conv: &Conv2d) -> Tensor {
    let w = &conv.weights;
    let Shape { channels, height, width } = input.shape;
    let (ph, pw) = (height + conv.pad.top + conv.pad.bottom, width + conv.pad.left + conv.pad.right);
    let out_h = (ph - w.kernel_h) / conv.stride + 1;
    let out_w = (pw - w.kernel_w) / conv.stride + 1;
    let padded: Vec<Vec<f32>> = (0..channels)
        .map(|c| pad_plane(&input.data[c * height * width..(c + 1) * height * width], height, width, conv.pad, conv.pad_mode))
        .collect();
    let mut out = Tensor::zeros(Shape::new(w.out_channels, out_h, out_w));
    let outs_per_group = w.out_channels / conv.groups;
    let s = conv.stride;
    for oc in 0..w.out_channels {
        let group = oc / outs_per_group;
        let plane = &mut out.data[oc * out_h * out_w..(oc + 1) * out_h * out_w];
        for i in 0..w.in_per_group {
            let source = &padded[group * w.in_per_group + i];
            for ky in 0..w.kernel_h {
                for kx in 0..w.kernel_w {
                    let weight = w.weight(((oc * w.in_per_group + i) * w.kernel_h + ky) * w.kernel_w + kx);
                    for y in 0..out_h {
                        let row = &source[(y * s + ky) * pw + kx..];
                        let out_row = &mut plane[y * out_w..(y + 1) * out_w];
                        if s == 1 {
                            for (o, v) in out_row.iter_mut().zip(row) {
                                *o += weight * v;
                            }
                        } else {
                            for (x, o) in out_row.iter_mut().enumerate() {
                                *o += weight * row[x * s];
                            }
                        }
                    }
                }
            }
        }
        if let Some(bias) = &w.bias {
            plane.iter_mut().for_each(|v| *v += bias[oc]);
        }
    }
    out
}

/// Values in one band of the unfolded input (im2col): 1 MiB of f32, small enough to stay in cache while the
/// matrix product streams over it.
const BAND_VALUES: usize = 256 * 1024;

/// Convolution as matrix products: the padded input is unfolded one band of output rows at a time into
/// `[in * kh * kw][band pixels]`, and `weights[out][in * kh * kw]` times that band lands straight in the output
/// planes. Output channels are split across threads natively; each thread owns whole output planes.
pub fn conv2d_gemm(input: &Tensor, conv: &Conv2d) -> Tensor {
    assert_eq!(conv.groups, 1, "the GEMM kernel takes ungrouped convolutions");
    let w = &conv.weights;
    let Shape { channels, height, width } = input.shape;
    let (ph, pw) = (height + conv.pad.top + conv.pad.bottom, width + conv.pad.left + conv.pad.right);
    let out_h = (ph - w.kernel_h) / conv.stride + 1;
    let out_w = (pw - w.kernel_w) / conv.stride + 1;
    let plane = out_h * out_w;
    let taps = w.taps();
    let weights: Vec<f32> = (0..w.quantised.len()).map(|i| w.weight(i)).collect();
    let padded: Vec<Vec<f32>> = (0..channels)
        .map(|c| pad_plane(&input.data[c * height * width..(c + 1) * height * width], height, width, conv.pad, conv.pad_mode))
        .collect();
    let band_rows = (BAND_VALUES / (taps * out_w)).clamp(1, out_h);
    let mut out = Tensor::zeros(Shape::new(w.out_channels, out_h, out_w));

    // Output channels [first, first + planes.len() / plane), every band.
    let run = |first: usize, planes: &mut [f32]| {
        let count = planes.len() / plane;
        let mut unfolded = vec![0.0f32; taps * band_rows * out_w];
        for y0 in (0..out_h).step_by(band_rows) {
            let rows = band_rows.min(out_h - y0);
            let n = rows * out_w;
            unfold_band(&padded, w.kernel_h, w.kernel_w, conv.stride, pw, y0, rows, out_w, &mut unfolded[..taps * n]);
            let a = &weights[first * taps..(first + count) * taps];
            let c = &mut planes[y0 * out_w..];
            // SAFETY: A is count x taps (row stride taps) inside `a`; B is taps x n (row stride n) inside
            // `unfolded`; C is count x n with row stride `plane`, and its last element, at
            // (count - 1) * plane + n - 1 from the start of `c`, lies inside `planes` because y0 * out_w + n <= plane.
            unsafe {
                matrixmultiply::sgemm(
                    count, taps, n,
                    1.0, a.as_ptr(), taps as isize, 1,
                    unfolded.as_ptr(), n as isize, 1,
                    0.0, c.as_mut_ptr(), plane as isize, 1,
                );
            }
        }
    };
    let threads = worker_count().min(w.out_channels);
    let per_thread = w.out_channels.div_ceil(threads);
    if threads <= 1 {
        run(0, &mut out.data);
    } else {
        std::thread::scope(|scope| {
            for (index, planes) in out.data.chunks_mut(per_thread * plane).enumerate() {
                let run = &run;
                scope.spawn(move || run(index * per_thread, planes));
            }
        });
    }
    if let Some(bias) = &w.bias {
        for (values, b) in out.data.chunks_exact_mut(plane).zip(bias) {
            values.iter_mut().for_each(|v| *v += b);
        }
    }
    out
}

/// Copies the taps of output rows `y0..y0 + rows` into `[tap][pixel]` order.
#[allow(clippy::too_many_arguments)]
fn unfold_band(
    padded: &[Vec<f32>],
    kernel_h: usize,
    kernel_w: usize,
    stride: usize,
    padded_w: usize,
    y0: usize,
    rows: usize,
    out_w: usize,
    unfolded: &mut [f32],
) {
    let n = rows * out_w;
    let mut tap_rows = unfolded.chunks_exact_mut(n);
    for source in padded {
        for ky in 0..kernel_h {
            for kx in 0..kernel_w {
                let Some(tap) = tap_rows.next() else { return };
                for (r, dst) in tap.chunks_exact_mut(out_w).enumerate() {
                    let start = ((y0 + r) * stride + ky) * padded_w + kx;
                    if stride == 1 {
                        dst.copy_from_slice(&source[start..start + out_w]);
                    } else {
                        for (x, d) in dst.iter_mut().enumerate() {
                            *d = source[start + x * stride];
                        }
                    }
                }
            }
        }
    }
}

/// Threads for the GEMM kernel: the machine's cores natively, one in the browser (no shared-memory threads there).
pub fn worker_count() -> usize {
    if cfg!(target_arch = "wasm32") {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::ConvWeights;

    /// A small deterministic generator, so failures reproduce.
    fn values(seed: u32, n: usize) -> Vec<f32> {
        let mut state = seed.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state % 20_000) as f32 / 10_000.0 - 1.0
            })
            .collect()
    }

    fn conv(in_c: usize, out_c: usize, k: usize, stride: usize, pad: usize, mode: PadMode, bias: bool) -> Conv2d {
        let taps = in_c * k * k;
        let quantised = values(out_c as u32 * 31 + k as u32, out_c * taps).iter().map(|v| (v * 127.0) as i8).collect();
        let scales = values(7, out_c).iter().map(|v| 0.01 + v.abs() * 0.02).collect();
        let bias = bias.then(|| values(3, out_c));
        let weights = ConvWeights { out_channels: out_c, in_per_group: in_c, kernel_h: k, kernel_w: k, quantised, scales, bias };
        Conv2d { weights, stride, pad: Padding::uniform(pad), pad_mode: mode, groups: 1 }
    }

    #[test]
    fn gemm_kernel_matches_the_direct_kernel_on_odd_shapes() {
        let cases = [
            (3, 32, 9, 1, 4, PadMode::Reflect, 23, 17, false),
            (32, 32, 3, 2, 1, PadMode::Reflect, 13, 9, false),
            (32, 8, 3, 1, 1, PadMode::Reflect, 11, 6, true),
            (4, 3, 9, 1, 4, PadMode::Reflect, 12, 10, false),
            (5, 7, 3, 2, 1, PadMode::Zero, 9, 14, true),
            (6, 5, 1, 1, 0, PadMode::Zero, 3, 5, true),
        ];
        for (in_c, out_c, k, stride, pad, mode, h, w, bias) in cases {
            let layer = conv(in_c, out_c, k, stride, pad, mode, bias);
            let input = Tensor::from_vec(Shape::new(in_c, h, w), values(h as u32 * 100 + w as u32, in_c * h * w)).unwrap();
            let direct = conv2d_direct(&input, &layer);
            let gemm = conv2d_gemm(&input, &layer);
            assert_eq!(direct.shape, gemm.shape);
            let peak = direct.data.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let worst = direct.data.iter().zip(&gemm.data).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
            // Only the summation order differs: relative error at f32 rounding level.
            assert!(worst <= 1e-5 * peak.max(1.0), "{in_c}->{out_c} k{k} s{stride} {h}x{w}: {worst} (peak {peak})");
        }
    }
}
