// 2-D convolution with int8 weights, per-output-channel scale, optional bias, stride, groups, and reflect or zero
// padding computed by index math (no padded copy of the input).
//
// Two entry points:
// - `conv2d`: one output value per invocation; weights packed 4 taps per u32 in `[out][in_per_group][kh][kw]` order.
//   Handles every shape; it is the tested fallback.
// - `conv2d_oc4`: one pixel for 4 consecutive output channels per invocation, for convs whose channels per group are a
//   multiple of 4. Each u32 holds the same tap for those 4 channels, so one input load feeds 4 multiply-adds.

override WG: u32 = 64u;

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
    pad: u32,
    reflect: u32,
    has_bias: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: ConvParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<u32>;
// Scales for every output channel, then (when has_bias) biases.
@group(0) @binding(4) var<storage, read> scale_bias: array<f32>;

// Index into the unpadded axis, or -1 for a zero tap. Reflect mirrors without repeating the edge; shape inference
// keeps the overhang below the size, so one reflection is enough.
fn source_index(i: i32, n: i32) -> i32 {
    if (i >= 0 && i < n) {
        return i;
    }
    if (p.reflect == 0u) {
        return -1;
    }
    if (i < 0) {
        return -i;
    }
    return 2 * (n - 1) - i;
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
    let index = gid.y * groups.x * WG + gid.x;
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
            let sy = source_index(i32(oy * p.stride + ky) - i32(p.pad), i32(p.in_height));
            if (sy < 0) {
                w += p.kernel_w;
                continue;
            }
            let row = base + u32(sy) * p.in_width;
            for (var kx = 0u; kx < p.kernel_w; kx++) {
                let sx = source_index(i32(ox * p.stride + kx) - i32(p.pad), i32(p.in_width));
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
    let index = gid.y * groups.x * WG + gid.x;
    let plane = p.out_height * p.out_width;
    if (index >= (p.out_channels / 4u) * plane) {
        return;
    }
    let quad = index / plane;
    let oc = quad * 4u;
    let pixel = index % plane;
    let oy = pixel / p.out_width;
    let ox = pixel % p.out_width;
    let first_in = (oc / p.outs_per_group) * p.in_per_group;
    let in_plane = p.in_height * p.in_width;
    let shifts = vec4<u32>(24u, 16u, 8u, 0u);
    var w = quad * p.in_per_group * p.kernel_h * p.kernel_w;
    var acc = vec4<f32>(0.0);
    for (var i = 0u; i < p.in_per_group; i++) {
        let base = (first_in + i) * in_plane;
        for (var ky = 0u; ky < p.kernel_h; ky++) {
            let sy = source_index(i32(oy * p.stride + ky) - i32(p.pad), i32(p.in_height));
            if (sy < 0) {
                w += p.kernel_w;
                continue;
            }
            let row = base + u32(sy) * p.in_width;
            for (var kx = 0u; kx < p.kernel_w; kx++) {
                let sx = source_index(i32(ox * p.stride + kx) - i32(p.pad), i32(p.in_width));
                if (sx >= 0) {
                    let q = vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(weights[w]) << shifts) >> vec4<u32>(24u));
                    acc += q * src[row + u32(sx)];
                }
                w++;
            }
        }
    }
    for (var c = 0u; c < 4u; c++) {
        dst[(oc + c) * plane + pixel] = finish(oc + c, acc[c]);
    }
}
