// `PixelParams`, the parameters unpack.wgsl and emit.wgsl share (mirrored by `uniforms::PixelParams`); the loader
// prepends this to both.

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

