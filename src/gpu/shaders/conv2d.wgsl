// 2-D convolution with int8 weights, per-output-channel scale, optional bias, stride, groups, and reflect or zero
// padding computed by index math (no padded copy of the input).
//
// Three entry points:
// - `conv2d`: one output value per invocation; weights packed 4 taps per u32 in `[out][in_per_group][kh][kw]` order.
//   Handles every shape; it is the tested fallback.
// - `conv2d_oc4`: 4 neighbouring pixels of a row for 4 consecutive output channels per invocation, for convs whose
//   channels per group are a multiple of 4. Each u32 holds the same tap for those 4 channels, so one weight word
//   feeds 16 multiply-adds and one input load feeds 4.
// - `conv2d_depthwise`: 8 neighbouring pixels of a row of one output channel per invocation, for 3x3 convs with one
//   input channel per group and stride 1 or 2 (MobileNet's depthwise convs). Same weight layout as `conv2d`; each
//   weight is decoded once for 8 pixels, and each input once per row (10 loads for 24 taps at stride 1).

struct ConvParams {
    in_channels: u32,
    in_height: u32,
    in_width: u32,
    out_channels: u32,
    out_height: u32,
    out_width: u32,
    in_per_group: u32,
    outs_per_group: u32,
    kernel_h: u32,
    kernel_w: u32,
    stride: u32,
    pad_top: u32,
    pad_left: u32,
    reflect: u32,
    has_bias: u32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> p: ConvParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<u32>;
// Scales for every output channel, then (when has_bias) biases.
@group(0) @binding(4) var<storage, read> scale_bias: array<f32>;

// Index into the unpadded axis, or -1 for a zero tap, with this conv's padding mode.
fn source_index(i: i32, n: i32) -> i32 {
    return padded_index(i, n, p.reflect != 0u);
}

// Sign-extends byte `b` of a packed word.
fn tap(word: u32, b: u32) -> f32 {
    return f32(bitcast<i32>(word << (24u - 8u * b)) >> 24u);
}

fn finish(oc: u32, acc: f32) -> f32 {
    var v = acc * scale_bias[oc];
    if (p.has_bias != 0u) {
        v += scale_bias[p.out_channels + oc];
    }
    return v;
}

@compute @workgroup_size(WG)
fn conv2d(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = linear_index(gid, groups);
    let plane = p.out_height * p.out_width;
    if (index >= p.out_channels * plane) {
        return;
    }
    let oc = index / plane;
    let pixel = index % plane;
    let oy = pixel / p.out_width;
    let ox = pixel % p.out_width;
    let first_in = (oc / p.outs_per_group) * p.in_per_group;
    let in_plane = p.in_height * p.in_width;
    var w = oc * p.in_per_group * p.kernel_h * p.kernel_w;
    var acc = 0.0;
    for (var i = 0u; i < p.in_per_group; i++) {
        let base = (first_in + i) * in_plane;
        for (var ky = 0u; ky < p.kernel_h; ky++) {
            let sy = source_index(i32(oy * p.stride + ky) - i32(p.pad_top), i32(p.in_height));
            if (sy < 0) {
                w += p.kernel_w;
                continue;
            }
            let row = base + u32(sy) * p.in_width;
            for (var kx = 0u; kx < p.kernel_w; kx++) {
                let sx = source_index(i32(ox * p.stride + kx) - i32(p.pad_left), i32(p.in_width));
                if (sx >= 0) {
                    acc += tap(weights[w >> 2u], w & 3u) * src[row + u32(sx)];
                }
                w++;
            }
        }
    }
    dst[index] = finish(oc, acc);
}

@compute @workgroup_size(WG)
fn conv2d_oc4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = linear_index(gid, groups);
    // Each invocation: 4 output channels x 4 neighbouring pixels of one row, 16 accumulators in registers.
    let blocks_per_row = (p.out_width + OC4_PIXELS - 1u) / OC4_PIXELS;
    let blocks = p.out_height * blocks_per_row;
    if (index >= (p.out_channels / 4u) * blocks) {
        return;
    }
    let quad = index / blocks;
    let oc = quad * 4u;
    let block = index % blocks;
    let oy = block / blocks_per_row;
    let ox0 = (block % blocks_per_row) * OC4_PIXELS;
    let first_in = (oc / p.outs_per_group) * p.in_per_group;
    let in_plane = p.in_height * p.in_width;
    let shifts = vec4<u32>(24u, 16u, 8u, 0u);
    var w = quad * p.in_per_group * p.kernel_h * p.kernel_w;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var i = 0u; i < p.in_per_group; i++) {
        let base = (first_in + i) * in_plane;
        for (var ky = 0u; ky < p.kernel_h; ky++) {
            let sy = source_index(i32(oy * p.stride + ky) - i32(p.pad_top), i32(p.in_height));
            if (sy < 0) {
                w += p.kernel_w;
                continue;
            }
            let row = base + u32(sy) * p.in_width;
            for (var kx = 0u; kx < p.kernel_w; kx++) {
                let q = vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(weights[w]) << shifts) >> vec4<u32>(24u));
                let x0 = i32((ox0 * p.stride) + kx) - i32(p.pad_left);
                let step = i32(p.stride);
                acc0 += q * load(row, x0);
                acc1 += q * load(row, x0 + step);
                acc2 += q * load(row, x0 + 2 * step);
                acc3 += q * load(row, x0 + 3 * step);
                w++;
            }
        }
    }
    let plane = p.out_height * p.out_width;
    let at = oy * p.out_width + ox0;
    for (var c = 0u; c < 4u; c++) {
        let out = (oc + c) * plane + at;
        dst[out] = finish(oc + c, acc0[c]);
        if (ox0 + 1u < p.out_width) {
            dst[out + 1u] = finish(oc + c, acc1[c]);
        }
        if (ox0 + 2u < p.out_width) {
            dst[out + 2u] = finish(oc + c, acc2[c]);
        }
        if (ox0 + 3u < p.out_width) {
            dst[out + 3u] = finish(oc + c, acc3[c]);
        }
    }
}

// One input value of a row at padded column `x`; zero for a zero tap or a column past the right edge (which only
// the unused lanes of a row's last block reach).
fn load(row: u32, x: i32) -> f32 {
    let sx = source_index(x, i32(p.in_width));
    if (sx < 0 || sx >= i32(p.in_width)) {
        return 0.0;
    }
    return src[row + u32(sx)];
}

// Column `x` of a row through the padding, without branches (so neighbouring lanes never diverge at the edges):
// zero outside for zero padding, mirrored once for reflect. Lanes past the output's right edge may read a clamped
// column; their results are never written.
fn column(row: u32, x: i32) -> f32 {
    let n = i32(p.in_width);
    let mirrored = select(x, -x, x < 0);
    let reflected = select(mirrored, 2 * (n - 1) - mirrored, mirrored >= n);
    let reflect = p.reflect != 0u;
    let at = clamp(select(x, reflected, reflect), 0, n - 1);
    return select(0.0, src[row + u32(at)], reflect || (x >= 0 && x < n));
}

@compute @workgroup_size(WG)
fn conv2d_depthwise(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = linear_index(gid, groups);
    // 8 neighbouring pixels of one row per invocation, channel-major so neighbouring invocations share rows.
    let blocks_per_row = (p.out_width + DEPTHWISE_PIXELS - 1u) / DEPTHWISE_PIXELS;
    let blocks = p.out_height * blocks_per_row;
    if (index >= p.out_channels * blocks) {
        return;
    }
    let oc = index / blocks;
    let block = index % blocks;
    let oy = block / blocks_per_row;
    let ox0 = (block % blocks_per_row) * DEPTHWISE_PIXELS;
    let base = (oc / p.outs_per_group) * p.in_height * p.in_width;
    let x0 = i32(ox0 * p.stride) - i32(p.pad_left);
    var lo = vec4<f32>(0.0);
    var hi = vec4<f32>(0.0);
    for (var ky = 0u; ky < 3u; ky++) {
        let sy = source_index(i32(oy * p.stride + ky) - i32(p.pad_top), i32(p.in_height));
        if (sy < 0) {
            continue;
        }
        let row = base + u32(sy) * p.in_width;
        let w = oc * 9u + ky * 3u;
        let k0 = tap(weights[w >> 2u], w & 3u);
        let k1 = tap(weights[(w + 1u) >> 2u], (w + 1u) & 3u);
        let k2 = tap(weights[(w + 2u) >> 2u], (w + 2u) & 3u);
        // The row's input window, read once: 10 columns at stride 1, 17 at stride 2.
        if (p.stride == 1u) {
            let a = vec4<f32>(column(row, x0), column(row, x0 + 1), column(row, x0 + 2), column(row, x0 + 3));
            let b = vec4<f32>(column(row, x0 + 4), column(row, x0 + 5), column(row, x0 + 6), column(row, x0 + 7));
            let c = vec2<f32>(column(row, x0 + 8), column(row, x0 + 9));
            lo += k0 * a + k1 * vec4<f32>(a.yzw, b.x) + k2 * vec4<f32>(a.zw, b.xy);
            hi += k0 * b + k1 * vec4<f32>(b.yzw, c.x) + k2 * vec4<f32>(b.zw, c);
        } else {
            // Even and odd columns: output lane l reads columns 2l, 2l + 1 and 2l + 2.
            let e0 = vec4<f32>(column(row, x0), column(row, x0 + 2), column(row, x0 + 4), column(row, x0 + 6));
            let o0 = vec4<f32>(column(row, x0 + 1), column(row, x0 + 3), column(row, x0 + 5), column(row, x0 + 7));
            let e1 = vec4<f32>(column(row, x0 + 8), column(row, x0 + 10), column(row, x0 + 12), column(row, x0 + 14));
            let o1 = vec4<f32>(column(row, x0 + 9), column(row, x0 + 11), column(row, x0 + 13), column(row, x0 + 15));
            let last = column(row, x0 + 16);
            lo += k0 * e0 + k1 * o0 + k2 * vec4<f32>(e0.yzw, e1.x);
            hi += k0 * e1 + k1 * o1 + k2 * vec4<f32>(e1.yzw, last);
        }
    }
    let at = oc * p.out_height * p.out_width + oy * p.out_width + ox0;
    for (var l = 0u; l < 4u; l++) {
        if (ox0 + l < p.out_width) {
            dst[at + l] = finish(oc, lo[l]);
        }
        if (ox0 + 4u + l < p.out_width) {
            dst[at + 4u + l] = finish(oc, hi[l]);
        }
    }
}
