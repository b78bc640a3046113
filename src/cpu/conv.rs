use crate::graph::{Conv2d, PadMode, Padding, Shape, Tensor};

use super::parallel;
use super::pool;
use super::simd::Lanes;

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
#[cfg(test)]
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

/// 2-D convolution: the register-blocked kernel, for every stride, padding and grouping.
pub fn conv2d(input: &Tensor, conv: &Conv2d) -> Tensor {
    conv2d_blocked(input, conv)
}

/// The plain kernel: int8 weights dequantised on the fly, stride, grouped channels, reflect or zero padding.
/// Obviously correct, and the reference the blocked kernel is tested against.
#[cfg(test)]
pub(crate) fn conv2d_direct(input: &Tensor, conv: &Conv2d) -> Tensor {
    let w = &conv.weights;
    let Shape { channels, height, width } = input.shape;
    let (ph, pw) = (height + conv.pad.top + conv.pad.bottom, width + conv.pad.left + conv.pad.right);
    let out_h = (ph - w.kernel_h) / conv.stride + 1;
    let out_w = (pw - w.kernel_w) / conv.stride + 1;
    let padded: Vec<Vec<f32>> = (0..channels)
        .map(|c| {
            pad_plane(&input.data[c * height * width..(c + 1) * height * width], height, width, conv.pad, conv.pad_mode)
        })
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

/// Output channels one register block computes, for ungrouped convolutions and groups of 4 or more outputs.
const WIDE_CHANNELS: usize = 4;
/// Vectors of neighbouring output pixels that block computes. 4 x 2 accumulators are the 8 independent chains two
/// FMA units of 4 cycles' latency need; 4 x 3 would fill all 16 AVX2 registers with the inputs and the weight, and
/// measured slower (the compiler spills one accumulator). 4 x 2 also fits SIMD128 on 16 SSE registers.
const WIDE_VECTORS: usize = 2;
/// Depthwise and other narrow groups (fewer than 4 outputs each): one channel x 4 vectors.
const NARROW_VECTORS: usize = 4;

/// Everything the blocked kernel reads for one group. The input is rearranged so that every tap of every stride is
/// a fixed offset from the output position: for stride `s`, each padded channel is split into `s * s` phase planes
/// (phase `(py, px)` holds padded pixels `(i * s + py, j * s + px)`), so tap `(c, ky, kx)` reads phase plane
/// `(c, ky % s, kx % s)` at `(y + ky / s, x + kx / s)`, a stride-1 walk. Plane rows are padded with zeros to
/// whole vectors, so the last vector of a row reads in bounds.
struct Blocked<'a> {
    /// The group's first phase plane onwards.
    planes: &'a [f32],
    plane_w: usize,
    /// Per tap, in the weights' `[in][kh][kw]` order: its offset from `y * plane_w + x` in `planes`.
    taps: &'a [usize],
    /// `[block][tap][R]` for the kernel's block of `R` channels, zero past the group's last output channel.
    weights: &'a [f32],
    /// Per output channel of the group, zero past the last one and where the conv has none.
    bias: &'a [f32],
    out_channels: usize,
    out_w: usize,
}

type RowsFn = unsafe fn(&Blocked<'_>, usize, usize, &mut [&mut [f32]]);

/// One instruction set's two kernels: `R = 4` channels x 2 vectors, and 1 channel x 4 vectors.
struct Kernels {
    lanes: usize,
    wide: RowsFn,
    narrow: RowsFn,
}

/// Direct convolution with register blocking, for any stride, padding and grouping: each block accumulates a few
/// output channels x a few vectors of pixels over every tap (a broadcast weight times a vector of input pixels),
/// then stores once. No unfolded copy and no packing: the input is read where it lies, from cache. Row bands (and
/// groups) are spread over threads natively. AVX2 + FMA where the CPU has it (checked at run time), SIMD128 in
/// wasm, and portable arrays elsewhere; `conv2d_direct` is its reference.
fn conv2d_blocked(input: &Tensor, conv: &Conv2d) -> Tensor {
    #[cfg(target_arch = "x86_64")]
    if super::simd::Avx2::available() {
        return blocked_with(input, conv, &AVX2);
    }
    blocked_with(input, conv, &NATIVE)
}

#[cfg(target_arch = "x86_64")]
const AVX2: Kernels =
    Kernels { lanes: 8, wide: rows_avx2::<WIDE_CHANNELS, WIDE_VECTORS>, narrow: rows_avx2::<1, NARROW_VECTORS> };

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn rows_avx2<const R: usize, const V: usize>(job: &Blocked<'_>, y0: usize, y1: usize, outs: &mut [&mut [f32]]) {
    rows::<super::simd::Avx2, R, V>(job, y0, y1, outs)
}

/// The build's own instruction set: SIMD128 in wasm, portable arrays elsewhere.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type NativeLanes = super::simd::Simd128;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
type NativeLanes = super::simd::Portable;

const NATIVE: Kernels = Kernels {
    lanes: <NativeLanes as Lanes>::N,
    wide: rows_native::<WIDE_CHANNELS, WIDE_VECTORS>,
    narrow: rows_native::<1, NARROW_VECTORS>,
};

unsafe fn rows_native<const R: usize, const V: usize>(
    job: &Blocked<'_>,
    y0: usize,
    y1: usize,
    outs: &mut [&mut [f32]],
) {
    rows::<NativeLanes, R, V>(job, y0, y1, outs)
}

/// The blocked kernel on portable arrays, whatever the CPU: for the tests, which compare every instruction set's
/// instantiation with the reference.
#[cfg(test)]
fn conv2d_blocked_portable(input: &Tensor, conv: &Conv2d) -> Tensor {
    const PORTABLE: Kernels = Kernels {
        lanes: <super::simd::Portable as Lanes>::N,
        wide: rows_portable::<WIDE_CHANNELS, WIDE_VECTORS>,
        narrow: rows_portable::<1, NARROW_VECTORS>,
    };
    blocked_with(input, conv, &PORTABLE)
}

#[cfg(test)]
unsafe fn rows_portable<const R: usize, const V: usize>(
    job: &Blocked<'_>,
    y0: usize,
    y1: usize,
    outs: &mut [&mut [f32]],
) {
    rows::<super::simd::Portable, R, V>(job, y0, y1, outs)
}

/// `[group][block][tap][r]`: each group's output channels in blocks of `r`, zero past the group's last one.
fn pack_weights(conv: &Conv2d, r: usize) -> Vec<f32> {
    let w = &conv.weights;
    let (k, per_group) = (w.taps(), w.out_channels / conv.groups);
    let blocks = per_group.div_ceil(r);
    let mut packed = vec![0.0f32; conv.groups * blocks * k * r];
    for oc in 0..w.out_channels {
        let (g, i) = (oc / per_group, oc % per_group);
        let base = (g * blocks + i / r) * k * r + i % r;
        for t in 0..k {
            packed[base + t * r] = w.weight(oc * k + t);
        }
    }
    packed
}

fn blocked_with(input: &Tensor, conv: &Conv2d, kernels: &Kernels) -> Tensor {
    let w = &conv.weights;
    let Shape { channels, height, width } = input.shape;
    let (pad, s, groups) = (conv.pad, conv.stride, conv.groups);
    let (ph, pw) = (height + pad.top + pad.bottom, width + pad.left + pad.right);
    let out_h = (ph - w.kernel_h) / s + 1;
    let out_w = (pw - w.kernel_w) / s + 1;
    // Every output value is written below, so kept memory with old values in it will do.
    let shape = Shape::new(w.out_channels, out_h, out_w);
    let mut out = Tensor { shape, data: pool::take(shape.len()) };
    if out.data.is_empty() {
        return out;
    }
    let plane_w = out_w.next_multiple_of(kernels.lanes) + (w.kernel_w - 1) / s;
    let plane_h = out_h + (w.kernel_h - 1) / s;
    let plane_len = plane_h * plane_w;

    // The phase planes, one task each. Their memory is kept between calls (see `SCRATCH`); every value is written.
    let mut planes = SCRATCH.with(|scratch| scratch.take());
    planes.resize(channels * s * s * plane_len, 0.0);
    {
        let mut chunks: Vec<&mut [f32]> = planes.chunks_mut(plane_len).collect();
        parallel::for_each(&mut chunks, channels * s * s * plane_len, |index, plane| {
            let (c, py, px) = (index / (s * s), index / s % s, index % s);
            let source = &input.data[c * height * width..(c + 1) * height * width];
            fill_phase_plane(source, height, width, pad, conv.pad_mode, (ph, pw), s, (py, px), plane_w, plane);
        });
    }

    let in_per_group = w.in_per_group;
    let taps: Vec<usize> = (0..in_per_group)
        .flat_map(|c| (0..w.kernel_h).flat_map(move |ky| (0..w.kernel_w).map(move |kx| (c, ky, kx))))
        .map(|(c, ky, kx)| ((c * s + ky % s) * s + kx % s) * plane_len + (ky / s) * plane_w + kx / s)
        .collect();
    let per_group = w.out_channels / groups;
    let (r, rows_fn) = if per_group >= WIDE_CHANNELS { (WIDE_CHANNELS, kernels.wide) } else { (1, kernels.narrow) };
    let padded_group = per_group.div_ceil(r) * r;
    let weights = pack_weights(conv, r);
    let mut bias = vec![0.0f32; groups * padded_group];
    if let Some(values) = &w.bias {
        for (g, chunk) in values.chunks(per_group).enumerate() {
            bias[g * padded_group..g * padded_group + per_group].copy_from_slice(chunk);
        }
    }

    // Tasks: a band of output rows of one group's output planes. Bands split each group enough for the threads.
    let bands = parallel::parts(out_h).div_ceil(groups).min(out_h);
    let band_rows = out_h.div_ceil(bands);
    let mut tasks: Vec<(usize, usize, Vec<&mut [f32]>)> = Vec::with_capacity(groups * bands);
    for (g, group_planes) in out.data.chunks_mut(per_group * out_h * out_w).enumerate() {
        let mut bands: Vec<Vec<&mut [f32]>> =
            (0..out_h.div_ceil(band_rows)).map(|_| Vec::with_capacity(per_group)).collect();
        for plane in group_planes.chunks_exact_mut(out_h * out_w) {
            for (band, rows) in bands.iter_mut().zip(plane.chunks_mut(band_rows * out_w)) {
                band.push(rows);
            }
        }
        tasks.extend(bands.into_iter().enumerate().map(|(b, outs)| (g, b * band_rows, outs)));
    }
    let group_planes = in_per_group * s * s * plane_len;
    let group_weights = padded_group * taps.len();
    let work = out_h * out_w * w.out_channels * taps.len();
    parallel::for_each(&mut tasks, work, |_, (g, y0, outs)| {
        let g = *g;
        let job = Blocked {
            planes: &planes[g * group_planes..],
            plane_w,
            taps: &taps,
            weights: &weights[g * group_weights..(g + 1) * group_weights],
            bias: &bias[g * padded_group..(g + 1) * padded_group],
            out_channels: per_group,
            out_w,
        };
        let y1 = (*y0 + band_rows).min(out_h);
        // SAFETY: `rows_fn` is the instantiation for an instruction set this CPU has (checked in
        // `conv2d_blocked`), and every read stays inside `planes` by construction of `plane_w`, `plane_h` and `taps`.
        unsafe { rows_fn(&job, *y0, y1, outs) }
    });
    SCRATCH.with(|scratch| scratch.replace(planes));
    out
}

thread_local! {
    /// The blocked kernel's rearranged input, kept for the next convolution on this thread: a whole network run
    /// then allocates it once (the largest layer's input, as large as that input), not once per layer, which on
    /// large images spares the page faults of fresh memory. Released when the thread ends (or, in the
    /// tests, by `pool::release_memory`).
    static SCRATCH: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

#[cfg(test)]
pub(crate) fn release_scratch() {
    SCRATCH.with(|scratch| drop(scratch.take()));
}

/// Fills one phase plane (`plane_w` wide, rows of it) from a channel: padded pixel `(i * s + py, j * s + px)`,
/// read through the padding mode, and zero past the padded size. Writes every value of `plane`.
#[allow(clippy::too_many_arguments)]
fn fill_phase_plane(
    source: &[f32],
    height: usize,
    width: usize,
    pad: Padding,
    mode: PadMode,
    (ph, pw): (usize, usize),
    s: usize,
    (py, px): (usize, usize),
    plane_w: usize,
    plane: &mut [f32],
) {
    // Columns j whose padded column j * s + px is inside the image: [inner_from, inner_to).
    let first_inside = pad.left.saturating_sub(px).div_ceil(s);
    let inner_from = first_inside.min(plane_w);
    let inner_to = if pad.left + width > px {
        ((pad.left + width - px - 1) / s + 1).clamp(inner_from, plane_w)
    } else {
        inner_from
    };
    for (i, row) in plane.chunks_exact_mut(plane_w).enumerate() {
        let r = i * s + py;
        let source_row = if r < ph { source_index(r as isize - pad.top as isize, height, mode) } else { None };
        let Some(sy) = source_row else {
            row.fill(0.0);
            continue;
        };
        let src = &source[sy * width..(sy + 1) * width];
        if inner_to > inner_from {
            let inner = &mut row[inner_from..inner_to];
            let offset = inner_from * s + px - pad.left;
            if s == 1 {
                inner.copy_from_slice(&src[offset..offset + inner.len()]);
            } else {
                for (value, source) in inner.iter_mut().zip(src[offset..].iter().step_by(s)) {
                    *value = *source;
                }
            }
        }
        // The padding columns, through the padding mode, and zeros past the padded width.
        for j in (0..inner_from).chain(inner_to..plane_w) {
            let q = j * s + px;
            row[j] = match (q < pw).then(|| source_index(q as isize - pad.left as isize, width, mode)).flatten() {
                Some(sx) => src[sx],
                None => 0.0,
            };
        }
    }
}

/// Output rows `y0..y1` of every output channel of `job`; `outs[oc]` holds those rows of channel `oc`. Blocks of
/// `R` channels x `V` vectors, then single vectors for the end of each row.
#[inline(always)]
unsafe fn rows<L: Lanes, const R: usize, const V: usize>(
    job: &Blocked<'_>,
    y0: usize,
    y1: usize,
    outs: &mut [&mut [f32]],
) {
    let k = job.taps.len();
    let blocks = job.out_channels.div_ceil(R);
    for y in y0..y1 {
        let mut x = 0;
        while x < job.out_w {
            let left = job.out_w - x;
            let (vectors, valid) = if left >= V * L::N { (V, V * L::N) } else { (1, left.min(L::N)) };
            let base = job.planes.as_ptr().add(y * job.plane_w + x);
            let at = (y - y0) * job.out_w + x;
            for b in 0..blocks {
                let first = b * R;
                let channels = (job.out_channels - first).min(R);
                let dst: [*mut f32; R] = std::array::from_fn(|r| {
                    if r < channels {
                        outs[first + r].as_mut_ptr().add(at)
                    } else {
                        std::ptr::null_mut()
                    }
                });
                let bias = &job.bias[first..first + R];
                let weights = job.weights.as_ptr().add(b * k * R);
                if vectors == V {
                    block::<L, R, V>(base, job.taps, weights, bias, &dst, channels, valid);
                } else {
                    block::<L, R, 1>(base, job.taps, weights, bias, &dst, channels, valid);
                }
            }
            x += vectors * L::N;
        }
    }
}

/// One register block: `R` channels x `V` vectors of pixels starting at `base`, over every tap; stores the first
/// `valid` pixels of the first `channels` channels.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn block<L: Lanes, const R: usize, const V: usize>(
    base: *const f32,
    taps: &[usize],
    weights: *const f32,
    bias: &[f32],
    dst: &[*mut f32; R],
    channels: usize,
    valid: usize,
) {
    let mut acc: [[L; V]; R] = std::array::from_fn(|r| [L::splat(bias[r]); V]);
    for (t, &offset) in taps.iter().enumerate() {
        let p = base.add(offset);
        let a: [L; V] = std::array::from_fn(|v| L::load(p.add(v * L::N)));
        let w = weights.add(t * R);
        for (r, row) in acc.iter_mut().enumerate() {
            let weight = L::splat(*w.add(r));
            for (sum, x) in row.iter_mut().zip(&a) {
                *sum = sum.mul_add(weight, *x);
            }
        }
    }
    for (r, row) in acc.iter().enumerate().take(channels) {
        for (v, sum) in row.iter().enumerate() {
            let start = v * L::N;
            if start + L::N <= valid {
                sum.store(dst[r].add(start));
            } else if start < valid {
                let mut spill = [0.0f32; 16];
                sum.store(spill.as_mut_ptr());
                std::ptr::copy_nonoverlapping(spill.as_ptr(), dst[r].add(start), valid - start);
            }
        }
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
        let weights =
            ConvWeights { out_channels: out_c, in_per_group: in_c, kernel_h: k, kernel_w: k, quantised, scales, bias };
        Conv2d { weights, stride, pad: Padding::uniform(pad), pad_mode: mode, groups: 1 }
    }

    /// The reference and a fast kernel's output agree to f32 rounding (only the summation order differs).
    fn assert_close(reference: &Tensor, fast: &Tensor, what: &str) {
        assert_eq!(reference.shape, fast.shape, "{what}");
        let peak = reference.data.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let worst = reference.data.iter().zip(&fast.data).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(worst <= 1e-5 * peak.max(1.0), "{what}: {worst} (peak {peak})");
    }

    #[test]
    fn blocked_kernel_matches_the_direct_kernel_on_grouped_convolutions() {
        // Depthwise (stride 1 and 2, TF's uneven "SAME" padding), groups with 2, 3, 4 and 5 outputs each.
        let cases = [
            (8, 8, 8, 3, 1, Padding::uniform(1), 13, 21),
            (6, 6, 6, 3, 2, Padding { top: 0, left: 0, bottom: 1, right: 1 }, 16, 17),
            (4, 8, 2, 3, 1, Padding::uniform(1), 9, 40),
            (6, 9, 3, 1, 1, Padding::uniform(0), 5, 7),
            (8, 8, 2, 3, 2, Padding::uniform(1), 11, 10),
            (6, 10, 2, 3, 1, Padding { top: 1, left: 0, bottom: 1, right: 2 }, 7, 33),
        ];
        for (in_c, out_c, groups, k, stride, pad, h, w) in cases {
            let ipg = in_c / groups;
            let taps = ipg * k * k;
            let quantised =
                values(out_c as u32 * 17 + k as u32, out_c * taps).iter().map(|v| (v * 127.0) as i8).collect();
            let scales = values(9, out_c).iter().map(|v| 0.01 + v.abs() * 0.02).collect();
            let weights = ConvWeights {
                out_channels: out_c,
                in_per_group: ipg,
                kernel_h: k,
                kernel_w: k,
                quantised,
                scales,
                bias: Some(values(5, out_c)),
            };
            let layer = Conv2d { weights, stride, pad, pad_mode: PadMode::Zero, groups };
            let input =
                Tensor::from_vec(Shape::new(in_c, h, w), values(h as u32 * 7 + w as u32, in_c * h * w)).unwrap();
            let direct = conv2d_direct(&input, &layer);
            let what = format!("{in_c}->{out_c} groups {groups} k{k} s{stride} {pad:?} {h}x{w}");
            assert_close(&direct, &conv2d_blocked(&input, &layer), &format!("blocked {what}"));
            assert_close(&direct, &conv2d_blocked_portable(&input, &layer), &format!("blocked (portable) {what}"));
        }
    }

    #[test]
    fn blocked_kernel_matches_the_direct_kernel_on_odd_shapes() {
        // Widths below, at and past one register block of every instruction set (4, 8, 12, 24 pixels); channel
        // counts that leave partial blocks; strides 1 to 3; reflect and zero padding, uneven sides; one row.
        let pads = [
            Padding::uniform(4),
            Padding::uniform(1),
            Padding { top: 0, left: 0, bottom: 1, right: 1 },
            Padding { top: 2, left: 1, bottom: 0, right: 3 },
            Padding::uniform(0),
        ];
        let cases = [
            (3, 32, 9, 1, pads[0], PadMode::Reflect, 23, 17, false),
            (32, 32, 3, 2, pads[1], PadMode::Reflect, 13, 9, false),
            (32, 8, 3, 1, pads[1], PadMode::Reflect, 11, 26, true),
            (4, 3, 9, 1, pads[0], PadMode::Reflect, 12, 10, false),
            (5, 7, 3, 2, pads[1], PadMode::Zero, 9, 14, true),
            (6, 5, 1, 1, pads[4], PadMode::Zero, 3, 5, true),
            (7, 9, 3, 2, pads[2], PadMode::Zero, 10, 49, true),
            (3, 6, 3, 3, pads[3], PadMode::Zero, 8, 31, false),
            (2, 5, 3, 1, pads[3], PadMode::Reflect, 5, 7, true),
            (16, 12, 1, 1, pads[4], PadMode::Zero, 1, 1, true),
            (8, 4, 3, 1, pads[1], PadMode::Reflect, 2, 40, false),
            (2, 3, 3, 3, pads[2], PadMode::Zero, 4, 3, true),
            (2, 3, 1, 3, pads[4], PadMode::Zero, 1, 2, false),
        ];
        for (in_c, out_c, k, stride, pad, mode, h, w, bias) in cases {
            let mut layer = conv(in_c, out_c, k, stride, 0, mode, bias);
            layer.pad = pad;
            let input =
                Tensor::from_vec(Shape::new(in_c, h, w), values(h as u32 * 100 + w as u32, in_c * h * w)).unwrap();
            let direct = conv2d_direct(&input, &layer);
            let what = format!("{in_c}->{out_c} k{k} s{stride} {pad:?} {mode:?} {h}x{w}");
            assert_close(&direct, &conv2d_blocked(&input, &layer), &format!("blocked {what}"));
            assert_close(&direct, &conv2d_blocked_portable(&input, &layer), &format!("blocked (portable) {what}"));
        }
    }
}
