//! The live frame pass's shader (`src/web/live.wgsl`, run by `web::live` on wasm32) with the constants it shares
//! with Rust. It lives here, compiled on every target, so native tests can parse it: `uniforms::tests` holds its
//! `FrameUniforms` to `uniforms::FrameUniforms` and validates it as it does the kernels.
// Only the browser's live frames use it; natively, only the tests.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use crate::pixels;

/// The upload pass's workgroup: 8 x 8 pixels, 64 invocations (the executor's own workgroup size).
pub(crate) const WG_X: u32 = 8;
pub(crate) const WG_Y: u32 = 8;
const _: () = assert!(WG_X * WG_Y == super::kernels::WORKGROUP_SIZE);

/// The shader as compiled: the constants it shares with Rust (the upload's workgroup, BT.601 from `pixels`) as WGSL
/// declarations, then live.wgsl.
pub(crate) fn shader() -> String {
    let vec3 = |v: [f32; 3]| format!("vec3<f32>({:?}, {:?}, {:?})", v[0], v[1], v[2]);
    let [a, b, c, d] = pixels::CHROMA_TO_RGB;
    format!(
        "// Prepended by gpu::frame::shader(): shared with the Rust side.\n\
         const WG_X: u32 = {WG_X}u;\nconst WG_Y: u32 = {WG_Y}u;\nconst LUMA = {};\nconst CHROMA_B = {};\n\
         const CHROMA_R = {};\nconst CHROMA_TO_RGB = vec4<f32>({a:?}, {b:?}, {c:?}, {d:?});\n\n{}",
        vec3(pixels::LUMA),
        vec3(pixels::CHROMA_B),
        vec3(pixels::CHROMA_R),
        include_str!("../web/live.wgsl"),
    )
}
