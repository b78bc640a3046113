// Nearest-neighbour upsampling by an integer factor: each input value becomes a factor x factor block.

struct UpsampleParams {
    channels: u32,
    in_height: u32,
    in_width: u32,
    factor: u32,
}

@group(0) @binding(0) var<uniform> p: UpsampleParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(WG)
fn upsample_nearest(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = linear_index(gid, groups);
    let out_w = p.in_width * p.factor;
    let out_plane = p.in_height * p.factor * out_w;
    if (index >= p.channels * out_plane) {
        return;
    }
    let c = index / out_plane;
    let pixel = index % out_plane;
    let y = (pixel / out_w) / p.factor;
    let x = (pixel % out_w) / p.factor;
    dst[index] = src[(c * p.in_height + y) * p.in_width + x];
}
