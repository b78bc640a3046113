// Live frames on the GPU (src/web/live.rs): a video frame's texture to the network's RGBA8 input, and the network's
// output with the frame to the canvas, finished as `pixels::finish` finishes a still photo. `gpu::frame::shader`
// prepends the constants it shares with Rust: WG_X, WG_Y (the upload's workgroup), and LUMA, CHROMA_B, CHROMA_R,
// CHROMA_TO_RGB (BT.601, from src/pixels.rs).

// Mirrors `gpu::uniforms::FrameUniforms` (`uniforms::tests::wgsl_structs_match` compares the layouts).
struct FrameUniforms {
    width: u32,
    height: u32,
    source_width: u32,
    source_height: u32,
    strength: f32,
    keep_colour: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> frame: FrameUniforms;
@group(0) @binding(1) var source: texture_2d<f32>;
@group(0) @binding(2) var source_sampler: sampler;
@group(0) @binding(3) var<storage, read_write> upload_out: array<u32>;

// The frame at the working size, one RGBA8 word per pixel (byte 0 red), as the network takes it. A frame of the
// working size is copied texel for texel; a larger one is sampled bilinearly at each pixel's centre.
@compute @workgroup_size(WG_X, WG_Y)
fn upload(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= frame.width || id.y >= frame.height) {
        return;
    }
    var colour: vec4<f32>;
    if (frame.source_width == frame.width && frame.source_height == frame.height) {
        colour = textureLoad(source, vec2<i32>(id.xy), 0);
    } else {
        let uv = (vec2<f32>(id.xy) + 0.5) / vec2<f32>(f32(frame.width), f32(frame.height));
        colour = textureSampleLevel(source, source_sampler, uv, 0.0);
    }
    upload_out[id.y * frame.width + id.x] = pack4x8unorm(colour);
}

// The drawing pass's own bindings (the uniform is shared); distinct numbers keep the two entry points apart.
@group(0) @binding(4) var<storage, read> photo_in: array<u32>;
@group(0) @binding(5) var<storage, read> styled_in: array<u32>;

// One triangle over the whole canvas.
@vertex
fn vertex(@builtin(vertex_index) index: u32) -> @builtin(position) vec4<f32> {
    let corner = vec2<f32>(f32((index << 1u) & 2u), f32(index & 2u));
    return vec4<f32>(corner * 2.0 - 1.0, 0.0, 1.0);
}

// `pixels::keep_colour`: the styled luma with the photo's chroma.
fn keep_colour(styled: vec3<f32>, photo: vec3<f32>) -> vec3<f32> {
    let y = dot(LUMA, styled);
    let cb = dot(CHROMA_B, photo);
    let cr = dot(CHROMA_R, photo);
    let rgb = vec3<f32>(
        y + CHROMA_TO_RGB.x * cr,
        y - CHROMA_TO_RGB.y * cb - CHROMA_TO_RGB.z * cr,
        y + CHROMA_TO_RGB.w * cb,
    );
    return clamp(rgb, vec3<f32>(0.0), vec3<f32>(1.0));
}

// `pixels::finish` for one pixel: the photo composited onto white (as the network saw it), keep-colours, the
// strength blend, rounded to 8 bits as the still path rounds. The canvas is opaque.
@fragment
fn fragment(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
    let x = min(u32(position.x), frame.width - 1u);
    let y = min(u32(position.y), frame.height - 1u);
    let i = y * frame.width + x;
    let pixel = unpack4x8unorm(photo_in[i]);
    let photo = pixel.rgb * pixel.a + (1.0 - pixel.a);
    var styled = clamp(unpack4x8unorm(styled_in[i]).rgb, vec3<f32>(0.0), vec3<f32>(1.0));
    if (frame.keep_colour != 0u) {
        styled = keep_colour(styled, photo);
    }
    let mixed = photo + (styled - photo) * frame.strength;
    return vec4<f32>(round(clamp(mixed, vec3<f32>(0.0), vec3<f32>(1.0)) * 255.0) / 255.0, 1.0);
}
