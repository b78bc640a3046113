//! Convolution weights on the GPU: int8 packed four to a u32, uploaded once.

use wgpu::util::DeviceExt;

use super::kernels::{ConvTile, Kernel, TILED_CHANNEL_PADDING};
use crate::error::{Error, Result};
use crate::graph::{Conv2d, ConvWeights};

/// Whether a conv runs the 4-output-channel kernel: every group's channels must split into whole quads.
/// Its weights are packed for that kernel alone.
pub(crate) fn uses_oc4(conv: &Conv2d) -> bool {
    let per_group = conv.weights.out_channels / conv.groups.max(1);
    per_group > 0 && per_group.is_multiple_of(4)
}

/// What `conv2d_depthwise` takes: one input channel per group, a 3x3 kernel, stride 1 or 2.
fn is_depthwise_3x3(conv: &Conv2d) -> bool {
    let w = &conv.weights;
    w.in_per_group == 1 && w.kernel_h == 3 && w.kernel_w == 3 && (conv.stride == 1 || conv.stride == 2)
}

/// The kernel a conv runs on. The others share the flat packing, so `plain` can send them to the reference kernel.
pub(crate) fn conv_kernel(conv: &Conv2d, plain: bool) -> Kernel {
    if uses_oc4(conv) {
        Kernel::Conv2dOc4
    } else if plain {
        Kernel::Conv2d
    } else if is_depthwise_3x3(conv) {
        Kernel::Conv2dDepthwise
    } else {
        Kernel::Conv2d
    }
}

/// The `conv_tiled` shape a conv runs in when it reads an input upsampled by `factor` (1: none): the first of the
/// preferred ones whose input window and weights fit the workgroup memory, or `None` where none does (grouped convs,
/// or kernels too large): the fused plan then does not take the graph. Few output channels prefer the narrow
/// shapes, which do not spend invocations on missing channels.
pub(crate) fn tiled_shape(conv: &Conv2d, factor: usize) -> Option<ConvTile> {
    let w = &conv.weights;
    if conv.groups != 1 || conv.stride == 0 || w.kernel_h == 0 || w.kernel_w == 0 {
        return None;
    }
    let preferred: &[ConvTile] = match w.out_channels {
        0..=4 => &[ConvTile::Narrow, ConvTile::Wide, ConvTile::Half],
        5..=8 => &[ConvTile::Wide, ConvTile::Half],
        _ => &[ConvTile::Full, ConvTile::Half],
    };
    let kh = u32::try_from(w.kernel_h).ok()?;
    let kw = u32::try_from(w.kernel_w).ok()?;
    let (stride, factor) = (u32::try_from(conv.stride).ok()?, u32::try_from(factor).ok()?);
    preferred.iter().copied().find(|tile| tile.fits(kh, kw, stride, factor))
}

/// Output channels a tiled conv's weights are padded to: whole workgroups' worth of any shape, so one upload serves
/// whichever shape a plan picks.
pub(crate) fn tiled_out_channels(conv: &Conv2d) -> usize {
    conv.weights.out_channels.next_multiple_of(TILED_CHANNEL_PADDING as usize)
}

/// `conv_tiled`'s weights: `[out channel][input quad][tap]` words, byte `c` input channel `4 * quad + c`, zero for
/// the channels that only pad (output channels to `out_padded`, input channels to a whole quad).
pub(crate) fn pack_tiled(w: &ConvWeights, out_padded: usize) -> Vec<u32> {
    let taps = w.kernel_h * w.kernel_w;
    let quads = w.in_per_group.div_ceil(4);
    let mut words = Vec::with_capacity(out_padded * quads * taps);
    for oc in 0..out_padded {
        for quad in 0..quads {
            for t in 0..taps {
                let word = (0..4).fold(0u32, |word, c| {
                    let ic = quad * 4 + c;
                    let q = if oc < w.out_channels && ic < w.in_per_group {
                        w.quantised[(oc * w.in_per_group + ic) * taps + t]
                    } else {
                        0
                    };
                    word | (u32::from(q as u8) << (8 * c))
                });
                words.push(word);
            }
        }
    }
    words
}

/// `conv_tiled`'s scales for every padded output channel, then biases (zero for padding and when there are none).
pub(crate) fn tiled_scale_bias(w: &ConvWeights, out_padded: usize) -> Vec<f32> {
    let mut values = vec![0.0; 2 * out_padded];
    values[..w.out_channels].copy_from_slice(&w.scales);
    if let Some(bias) = &w.bias {
        values[out_padded..out_padded + w.out_channels].copy_from_slice(bias);
    }
    values
}

/// `[out][in_per_group][kh][kw]` bytes, four consecutive taps per word (byte 0 lowest).
pub(crate) fn pack_flat(w: &ConvWeights) -> Vec<u32> {
    w.quantised
        .chunks(4)
        .map(|taps| taps.iter().enumerate().fold(0u32, |word, (b, &q)| word | (u32::from(q as u8) << (8 * b))))
        .collect()
}

/// One word per (quad of output channels, tap): byte `c` is output channel `4 * quad + c`.
pub(crate) fn pack_quads(w: &ConvWeights) -> Vec<u32> {
    let taps = w.taps();
    let mut words = Vec::with_capacity(w.out_channels / 4 * taps);
    for quad in 0..w.out_channels / 4 {
        for t in 0..taps {
            let word = (0..4)
                .fold(0u32, |word, c| word | (u32::from(w.quantised[(quad * 4 + c) * taps + t] as u8) << (8 * c)));
            words.push(word);
        }
    }
    words
}

/// One conv's weights and its scales-then-biases, for the baseline kernels and (where it fits) `conv_tiled`.
pub(crate) struct ConvBuffers {
    pub(crate) weights: wgpu::Buffer,
    pub(crate) scale_bias: wgpu::Buffer,
    pub(crate) tiled: Option<TiledBuffers>,
}

pub(crate) struct TiledBuffers {
    pub(crate) weights: wgpu::Buffer,
    pub(crate) scale_bias: wgpu::Buffer,
}

/// Bytes a conv's buffers take, to check against the binding limit before uploading.
pub(crate) fn conv_bytes(conv: &Conv2d) -> u64 {
    let w = &conv.weights;
    let weights = w.quantised.len().div_ceil(4) as u64 * 4;
    let scale_bias = (w.scales.len() + w.bias.as_ref().map_or(0, Vec::len)) as u64 * 4;
    weights.max(scale_bias)
}

pub(crate) fn upload(device: &wgpu::Device, conv: &Conv2d, limit: u64) -> Result<ConvBuffers> {
    let needed = conv_bytes(conv);
    if needed > limit {
        return Err(Error::GpuBufferLimit { needed, limit });
    }
    let w = &conv.weights;
    let mut words = if uses_oc4(conv) { pack_quads(w) } else { pack_flat(w) };
    // Zero-sized bindings are invalid.
    if words.is_empty() {
        words.push(0);
    }
    let mut scale_bias = w.scales.clone();
    scale_bias.extend(w.bias.iter().flatten());
    if scale_bias.is_empty() {
        scale_bias.push(0.0);
    }
    let storage = |label: &str, contents: &[u8]| {
        device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents,
            usage: wgpu::BufferUsages::STORAGE,
        })
    };
    let tiled = match tiled_shape(conv, 1).or_else(|| tiled_shape(conv, 2)) {
        Some(_) => {
            let out_padded = tiled_out_channels(conv);
            let words = pack_tiled(w, out_padded);
            if words.len() as u64 * 4 > limit {
                return Err(Error::GpuBufferLimit { needed: words.len() as u64 * 4, limit });
            }
            Some(TiledBuffers {
                weights: storage("tiled conv weights", bytemuck::cast_slice(&words)),
                scale_bias: storage("tiled conv scales", bytemuck::cast_slice(&tiled_scale_bias(w, out_padded))),
            })
        }
        None => None,
    };
    Ok(ConvBuffers {
        weights: storage("conv weights", bytemuck::cast_slice(&words)),
        scale_bias: storage("conv scales", bytemuck::cast_slice(&scale_bias)),
        tiled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_extend(word: u32, b: usize) -> i8 {
        ((word << (24 - 8 * b)) as i32 >> 24) as i8
    }

    #[test]
    fn packing_round_trips() {
        let quantised: Vec<i8> = (0..8 * 2 * 3 * 3).map(|i| ((i * 37) % 256) as u8 as i8).collect();
        let w = ConvWeights {
            out_channels: 8,
            in_per_group: 2,
            kernel_h: 3,
            kernel_w: 3,
            quantised: quantised.clone(),
            scales: vec![1.0; 8],
            bias: None,
        };
        let flat = pack_flat(&w);
        for (i, &q) in quantised.iter().enumerate() {
            assert_eq!(sign_extend(flat[i / 4], i % 4), q);
        }
        let tiled = pack_tiled(&w, 12);
        let spatial = w.kernel_h * w.kernel_w;
        for oc in 0..12 {
            for ic in 0..4 {
                for t in 0..spatial {
                    let word = tiled[(oc + ic / 4) * spatial + t]; // one input quad per output channel
                    let expected = if oc < 8 && ic < 2 { quantised[(oc * 2 + ic) * spatial + t] } else { 0 };
                    assert_eq!(sign_extend(word, ic % 4), expected);
                }
            }
        }
        let quads = pack_quads(&w);
        let taps = w.taps();
        for oc in 0..8 {
            for t in 0..taps {
                assert_eq!(sign_extend(quads[oc / 4 * taps + t], oc % 4), quantised[oc * taps + t]);
            }
        }
    }
}
