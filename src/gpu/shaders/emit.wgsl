// The fused plan's output: the graph's output value finished (pending norm, ReLU, residual, then the final
// activation) and written as RGBA8 words cropped to the photo (`emit_rgba8`) or as planar f32 (`emit_planar`).

@group(0) @binding(0) var<uniform> x: PixelParams;
// Bindings 1 to 3, the output value, its residual and the norms' scales and shifts: pending.wgsl.
// RGBA8 words, or the bits of a planar f32 tensor.
@group(0) @binding(4) var<storage, read_write> words_out: array<u32>;

// The output value of quad `q` at (y, x), finished.
fn finished(q: u32, y: u32, col: u32) -> vec4<f32> {
    let at = (q * x.src_height + y / x.upsample) * x.src_width + col / x.upsample;
    var v = load_finished(q, at, PendingWork(x.affine_base, x.affine_on, x.relu, x.residual_on));
    if (x.activation == 1u) {
        v = 1.0 / (1.0 + exp(-v));
    } else if (x.activation == 2u) {
        v = clamp(v, vec4<f32>(x.low), vec4<f32>(x.high));
    }
    return v;
}

@compute @workgroup_size(WG)
fn emit_rgba8(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(gid, groups);
    if (i >= x.photo_height * x.photo_width) {
        return;
    }
    let y = i / x.photo_width;
    let col = i % x.photo_width;
    let v = clamp(finished(0u, y, col), vec4<f32>(0.0), vec4<f32>(1.0));
    words_out[i] = pack4x8unorm(vec4<f32>(v.rgb, 1.0));
}

@compute @workgroup_size(WG)
fn emit_planar(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(gid, groups);
    let plane = x.height * x.width;
    if (i >= x.quads * plane) {
        return;
    }
    let q = i / plane;
    let at = i % plane;
    let v = finished(q, at / x.width, at % x.width);
    for (var c = 0u; c < 4u; c++) {
        if (4u * q + c < x.channels) {
            words_out[(4u * q + c) * plane + at] = bitcast<u32>(v[c]);
        }
    }
}
