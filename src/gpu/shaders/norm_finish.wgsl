// `norm_finish`, the fused plan's norm pass: one workgroup per channel combines the conv tiles' (count, mean, M2)
// partial statistics with `chan` (moments.wgsl, the combination the tiles made them with) in a fixed order
// (deterministic: no atomics, which WGSL only has relaxed) and writes the norm's scale and shift (gamma / std,
// beta - mean * gamma / std) for the next kernel to apply as it loads.

struct FinishParams {
    channels: u32,
    quads: u32,
    tiles: u32,
    params_offset: u32,
    affine_base: u32,
    eps: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> f: FinishParams;
@group(0) @binding(1) var<storage, read> tile_stats: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> style: array<f32>;
@group(0) @binding(3) var<storage, read_write> affine_out: array<f32>;

var<workgroup> reduce_n: array<f32, WG>;
var<workgroup> reduce_mean: array<f32, WG>;
var<workgroup> reduce_m2: array<f32, WG>;

// One channel's summary as `chan` takes it: the scalars splatted into every lane, lane x read back.
fn splat(n: f32, mean: f32, m2: f32) -> Moments {
    return Moments(n, vec4<f32>(mean), vec4<f32>(m2));
}

@compute @workgroup_size(WG)
fn norm_finish(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let c = wid.y * groups.x + wid.x;
    if (c >= f.quads * 4u) {
        return;
    }
    var s = splat(0.0, 0.0, 0.0);
    if (c < f.channels) {
        for (var i = lid; i < f.tiles; i += WG) {
            let t = tile_stats[c * f.tiles + i];
            s = chan(s, splat(t.x, t.y, t.z));
        }
    }
    reduce_n[lid] = s.n;
    reduce_mean[lid] = s.mean.x;
    reduce_m2[lid] = s.m2.x;
    for (var step = WG / 2u; step > 0u; step >>= 1u) {
        workgroupBarrier();
        var r: Moments;
        if (lid < step) {
            let o = lid + step;
            let a = splat(reduce_n[lid], reduce_mean[lid], reduce_m2[lid]);
            r = chan(a, splat(reduce_n[o], reduce_mean[o], reduce_m2[o]));
        }
        workgroupBarrier();
        if (lid < step) {
            reduce_n[lid] = r.n;
            reduce_mean[lid] = r.mean.x;
            reduce_m2[lid] = r.m2.x;
        }
    }
    if (lid == 0u) {
        // Channels that only pad a quad get scale and shift 0, so they stay 0 downstream.
        var scale = 0.0;
        var shift = 0.0;
        if (c < f.channels) {
            // The count is a total weight where the norm is weighted, which may be under 1.
            let n = select(1.0, reduce_n[0], reduce_n[0] > 0.0);
            let inv_std = 1.0 / sqrt(reduce_m2[0] / n + f.eps);
            scale = style[f.params_offset + c] * inv_std;
            shift = style[f.params_offset + f.channels + c] - reduce_mean[0] * scale;
        }
        let quad = c / 4u;
        affine_out[(f.affine_base + 2u * quad) * 4u + c % 4u] = scale;
        affine_out[(f.affine_base + 2u * quad + 1u) * 4u + c % 4u] = shift;
    }
}

