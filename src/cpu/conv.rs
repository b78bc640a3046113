use crate::graph::{Conv2d, PadMode, Shape, Tensor};

/// Index into a padded axis: reflect mirrors without repeating the edge; `None` is a zero-padded tap.
pub(crate) fn source_index(padded: isize, size: usize, mode: PadMode) -> Option<usize> {
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
fn pad_plane(plane: &[f32], height: usize, width: usize, pad: usize, mode: PadMode) -> Vec<f32> {
    let (ph, pw) = (height + 2 * pad, width + 2 * pad);
    let mut out = vec![0.0f32; ph * pw];
    for y in 0..ph {
        let Some(sy) = source_index(y as isize - pad as isize, height, mode) else { continue };
        for x in 0..pw {
            if let Some(sx) = source_index(x as isize - pad as isize, width, mode) {
                out[y * pw + x] = plane[sy * width + sx];
            }
        }
    }
    out
}

/// 2-D convolution with int8 weights dequantised on the fly, stride, grouped channels and reflect or zero padding.
pub fn conv2d(input: &Tensor, conv: &Conv2d) -> Tensor {
    let w = &conv.weights;
    let Shape { channels, height, width } = input.shape;
    let (ph, pw) = (height + 2 * conv.pad, width + 2 * conv.pad);
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
