// The fused plan's input: the photo into channel quads (`Act` as in tiled.wgsl).
// - `unpack_rgba8`: RGBA8 words, composited onto white and reflect-padded to the network's size, as
//   `pixels::prepare` does.
// - `unpack_planar`: an already padded planar f32 tensor.

struct PixelParams {
    // The value read or written in quads, and the planar tensor or photo on the other side.
    quads: u32,
    height: u32,
    width: u32,
    channels: u32,
    photo_height: u32,
    photo_width: u32,
    // Pending work on the value read (emit only), as in `TiledConvParams`.
    affine_base: u32,
    affine_on: u32,
    relu: u32,
    residual_on: u32,
    upsample: u32,
    // 0: none, 1: sigmoid, 2: clip to [low, high].
    activation: u32,
    low: f32,
    high: f32,
    src_height: u32,
    src_width: u32,
}

@group(0) @binding(0) var<uniform> x: PixelParams;
// RGBA8 words, or the bits of a planar f32 tensor.
@group(0) @binding(1) var<storage, read> photo: array<u32>;
@group(0) @binding(2) var<storage, read_write> quads_out: array<Act>;

fn mirror(i: u32, n: u32) -> u32 {
    if (i < n) {
        return i;
    }
    return 2u * (n - 1u) - i;
}

@compute @workgroup_size(WG)
fn unpack_rgba8(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(gid, groups);
    if (i >= x.height * x.width) {
        return;
    }
    let y = i / x.width;
    let col = i % x.width;
    let word = photo[mirror(y, x.photo_height) * x.photo_width + mirror(col, x.photo_width)];
    let px = unpack4x8unorm(word);
    // Composited onto white, as `pixels::prepare` does.
    let rgb = px.rgb * px.a + vec3<f32>(1.0 - px.a);
    quads_out[i] = Act(vec4<f32>(rgb, 0.0));
}

@compute @workgroup_size(WG)
fn unpack_planar(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(gid, groups);
    let plane = x.height * x.width;
    if (i >= x.quads * plane) {
        return;
    }
    let q = i / plane;
    let at = i % plane;
    var v = vec4<f32>(0.0);
    for (var c = 0u; c < 4u; c++) {
        if (4u * q + c < x.channels) {
            v[c] = bitcast<f32>(photo[(4u * q + c) * plane + at]);
        }
    }
    quads_out[i] = Act(v);
}

