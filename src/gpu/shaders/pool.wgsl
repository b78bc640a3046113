// Global average pooling, `[C, H, W] -> [C, 1, 1]`: one workgroup per channel reduces the whole plane in shared
// memory, as the norm statistics do. Values are summed relative to the plane's first one (a common offset does not
// eat the sum's digits), and each invocation adds its values in blocks of BLOCK before adding the block to its
// total, so rounding grows with plane / (WG * BLOCK) additions rather than plane / WG. (Compensated summation would
// be tighter, but drivers may reassociate it away.)

const BLOCK: u32 = 64u;

struct PoolParams {
    channels: u32,
    plane: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: PoolParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

var<workgroup> partial: array<f32, REDUCTION_CAPACITY>;

@compute @workgroup_size(WG)
fn global_avg_pool(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    // Uniform across the workgroup, so the barriers below are reached by every invocation or none.
    let c = wid.y * groups.x + wid.x;
    if (c >= p.channels) {
        return;
    }
    let base = c * p.plane;
    let pivot = src[base];
    var total = 0.0;
    var i = lid;
    while (i < p.plane) {
        let end = min(p.plane, i + BLOCK * WG);
        var block = 0.0;
        for (; i < end; i += WG) {
            block += src[base + i] - pivot;
        }
        total += block;
    }
    partial[lid] = total;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            partial[lid] += partial[lid + s];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        dst[c] = pivot + partial[0] / f32(p.plane);
    }
}
