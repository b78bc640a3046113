// Instance norm in two passes.
// `norm_stats`: one workgroup per channel reduces the whole plane in shared memory: first the mean, then the centred
// sum of squares (two passes over the data keep f32 precise where E[x^2] - E[x]^2 would cancel). The mean is summed
// relative to the plane's first value, so a large common offset does not eat the f32 digits of the sum.
// `norm_stats_weighted`: the same with each pixel counted by its weight (a product's matte at the plane's
// resolution): the weighted mean, then the weighted centred sum of squares, both over the total weight. The plan
// uploads ones for a plane with no weight anywhere, where the plain statistics stand.
// `norm_apply`: in place, `(x - mean) * inv_std * gamma + beta`, gamma and beta read from the style parameters.

struct NormParams {
    channels: u32,
    plane: u32,
    params_offset: u32,
    eps: f32,
}

@group(0) @binding(0) var<uniform> p: NormParams;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
// Mean and 1/sqrt(var + eps) per channel.
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;
@group(0) @binding(3) var<storage, read> style: array<f32>;
// `norm_stats_weighted` only: the plane's weights, one per pixel.
@group(0) @binding(4) var<storage, read> norm_weights: array<f32>;

var<workgroup> partial: array<f32, REDUCTION_CAPACITY>;

fn workgroup_sum(lid: u32, v: f32) -> f32 {
    partial[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            partial[lid] += partial[lid + s];
        }
        workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(WG)
fn norm_stats(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let c = wid.y * groups.x + wid.x;
    if (c >= p.channels) {
        return;
    }
    let base = c * p.plane;
    let pivot = x[base];
    var sum = 0.0;
    for (var i = lid; i < p.plane; i += WG) {
        sum += x[base + i] - pivot;
    }
    let mean = pivot + workgroup_sum(lid, sum) / f32(p.plane);
    var squares = 0.0;
    for (var i = lid; i < p.plane; i += WG) {
        let d = x[base + i] - mean;
        squares += d * d;
    }
    let variance = workgroup_sum(lid, squares) / f32(p.plane);
    if (lid == 0u) {
        stats[2u * c] = mean;
        stats[2u * c + 1u] = 1.0 / sqrt(variance + p.eps);
    }
}

@compute @workgroup_size(WG)
fn norm_stats_weighted(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let c = wid.y * groups.x + wid.x;
    if (c >= p.channels) {
        return;
    }
    let base = c * p.plane;
    let pivot = x[base];
    var sum = 0.0;
    var weight = 0.0;
    for (var i = lid; i < p.plane; i += WG) {
        let w = norm_weights[i];
        sum += w * (x[base + i] - pivot);
        weight += w;
    }
    let total = workgroup_sum(lid, weight);
    let mean = pivot + workgroup_sum(lid, sum) / total;
    var squares = 0.0;
    for (var i = lid; i < p.plane; i += WG) {
        let d = x[base + i] - mean;
        squares += norm_weights[i] * d * d;
    }
    let variance = workgroup_sum(lid, squares) / total;
    if (lid == 0u) {
        stats[2u * c] = mean;
        stats[2u * c + 1u] = 1.0 / sqrt(variance + p.eps);
    }
}

@compute @workgroup_size(WG)
fn norm_apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = linear_index(gid, groups);
    if (index >= p.channels * p.plane) {
        return;
    }
    let c = index / p.plane;
    let gamma = style[p.params_offset + c];
    let beta = style[p.params_offset + p.channels + c];
    x[index] = (x[index] - stats[2u * c]) * (stats[2u * c + 1u] * gamma) + beta;
}
