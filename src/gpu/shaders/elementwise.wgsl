// In-place elementwise ops: relu, clip, sigmoid, `x += y`, and the per-channel affine `x * scale[c] + shift[c]`.

struct EltParams {
    count: u32,
    // clip's bounds.
    min: f32,
    max: f32,
    // channel_affine: values per channel plane, channels, and where scale (then shift) start in `y`.
    plane: u32,
    channels: u32,
    params_offset: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: EltParams;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
// add's second operand; for channel_affine, the style parameters.
@group(0) @binding(2) var<storage, read> y: array<f32>;

@compute @workgroup_size(WG)
fn relu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(gid, groups);
    if (i < p.count) {
        x[i] = max(x[i], 0.0);
    }
}

@compute @workgroup_size(WG)
fn clip(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(gid, groups);
    if (i < p.count) {
        x[i] = clamp(x[i], p.min, p.max);
    }
}

@compute @workgroup_size(WG)
fn sigmoid(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(gid, groups);
    if (i < p.count) {
        x[i] = 1.0 / (1.0 + exp(-x[i]));
    }
}

@compute @workgroup_size(WG)
fn add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(gid, groups);
    if (i < p.count) {
        x[i] += y[i];
    }
}

@compute @workgroup_size(WG)
fn channel_affine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(gid, groups);
    if (i < p.count) {
        let c = i / p.plane;
        x[i] = x[i] * y[p.params_offset + c] + y[p.params_offset + p.channels + c];
    }
}
