// The fused plan's input: the photo into channel quads (`Act` as in tiled.wgsl).
// - `unpack_rgba8`: RGBA8 words, composited onto white and reflect-padded to the network's size, as
//   `pixels::prepare` does.
// - `unpack_planar`: an already padded planar f32 tensor.

@group(0) @binding(0) var<uniform> x: PixelParams;
// RGBA8 words, or the bits of a planar f32 tensor.
@group(0) @binding(1) var<storage, read> photo: array<u32>;
@group(0) @binding(2) var<storage, read_write> quads_out: array<Act>;

@compute @workgroup_size(WG)
fn unpack_rgba8(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(gid, groups);
    if (i >= x.height * x.width) {
        return;
    }
    let y = i / x.width;
    let col = i % x.width;
    let sy = u32(padded_index(i32(y), i32(x.photo_height), true));
    let sx = u32(padded_index(i32(col), i32(x.photo_width), true));
    let word = photo[sy * x.photo_width + sx];
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

