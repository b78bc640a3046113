// What a fused kernel reads a value through, and the pending work it does as it loads (`fused.rs`: what no conv
// needs a pass of its own for): the producer's norm scale and shift, ReLU, the residual add, in the graph's order.
// The loader prepends this to tiled.wgsl and emit.wgsl, which take the value at bindings 1 to 3 (the plan binds them
// alike: the stored value, the residual beside it, every norm's scale and shift).

@group(0) @binding(1) var<storage, read> stored: array<Act>;
@group(0) @binding(2) var<storage, read> stored_residual: array<Act>;
// Per norm: scale quads then shift quads, interleaved per quad (scale at 2q, shift at 2q + 1).
@group(0) @binding(3) var<storage, read> affine: array<vec4<f32>>;

// The pending work as the kernel's parameters give it (`affine_base`, `affine_on`, `relu`, `residual_on` of
// `TiledConvParams` and `PixelParams`); `affine_on` 0: no norm pending, the value is stored final.
struct PendingWork {
    affine_base: u32,
    affine_on: u32,
    relu: u32,
    residual_on: u32,
}

// Stored element `at` (of quad `q`), finished.
fn load_finished(q: u32, at: u32, work: PendingWork) -> vec4<f32> {
    var v = vec4<f32>(stored[at]);
    if (work.affine_on != 0u) {
        v = v * affine[work.affine_base + 2u * q] + affine[work.affine_base + 2u * q + 1u];
    }
    if (work.relu != 0u) {
        v = max(v, vec4<f32>(0.0));
    }
    if (work.residual_on != 0u) {
        v += vec4<f32>(stored_residual[at]);
    }
    return v;
}

