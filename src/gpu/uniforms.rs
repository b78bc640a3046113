//! Per-dispatch parameters, and the live frame pass's (`FrameUniforms`), written once here and mirrored in the WGSL
//! structs of the same names. `tests::wgsl_structs_match` parses every shader (live.wgsl too) with naga and compares
//! member names, offsets and sizes, so the two sides cannot drift apart silently.

use bytemuck::{Pod, Zeroable};

/// Declares a `#[repr(C)]` Pod struct and the list of its members with their byte offsets.
macro_rules! uniform_struct {
    ($(#[$meta:meta])* pub(crate) struct $name:ident { $($field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
        pub(crate) struct $name {
            $(pub(crate) $field: $ty,)*
        }

        impl $name {
            #[cfg(test)]
            pub(crate) const MEMBERS: &'static [(&'static str, usize)] =
                &[$((stringify!($field), std::mem::offset_of!($name, $field)),)*];
        }
    };
}

uniform_struct! {
    /// `conv2d.wgsl`. Padded to a multiple of 16 bytes.
    pub(crate) struct ConvParams {
        in_channels: u32,
        in_height: u32,
        in_width: u32,
        out_channels: u32,
        out_height: u32,
        out_width: u32,
        in_per_group: u32,
        outs_per_group: u32,
        kernel_h: u32,
        kernel_w: u32,
        stride: u32,
        pad_top: u32,
        pad_left: u32,
        reflect: u32,
        has_bias: u32,
        _pad0: u32,
    }
}

uniform_struct! {
    /// `norm.wgsl`: both passes.
    pub(crate) struct NormParams {
        channels: u32,
        plane: u32,
        params_offset: u32,
        eps: f32,
    }
}

uniform_struct! {
    /// `elementwise.wgsl`: `count` for every kernel; `min`, `max` for clip; `plane`, `channels`, `params_offset` for
    /// channel affine. Padded to a multiple of 16 bytes.
    pub(crate) struct EltParams {
        count: u32,
        min: f32,
        max: f32,
        plane: u32,
        channels: u32,
        params_offset: u32,
        _pad0: u32,
        _pad1: u32,
    }
}

uniform_struct! {
    /// `pool.wgsl`.
    pub(crate) struct PoolParams {
        channels: u32,
        plane: u32,
        _pad0: u32,
        _pad1: u32,
    }
}

uniform_struct! {
    /// `upsample.wgsl`.
    pub(crate) struct UpsampleParams {
        channels: u32,
        in_height: u32,
        in_width: u32,
        factor: u32,
    }
}

uniform_struct! {
    /// `tiled.wgsl`. A multiple of 16 bytes.
    pub(crate) struct TiledConvParams {
        in_quads: u32,
        in_height: u32,
        in_width: u32,
        upsample: u32,
        src_height: u32,
        src_width: u32,
        affine_base: u32,
        affine_on: u32,
        relu: u32,
        residual_on: u32,
        materialise: u32,
        reflect: u32,
        out_channels: u32,
        out_height: u32,
        out_width: u32,
        kernel_h: u32,
        kernel_w: u32,
        stride: u32,
        pad_top: u32,
        pad_left: u32,
        has_bias: u32,
        stats_on: u32,
        tiles_x: u32,
        tiles: u32,
        oc_blocks: u32,
        bias_offset: u32,
        weights_base: u32,
        weights_on: u32,
    }
}

uniform_struct! {
    /// `norm_finish.wgsl`.
    pub(crate) struct FinishParams {
        channels: u32,
        quads: u32,
        tiles: u32,
        params_offset: u32,
        affine_base: u32,
        eps: f32,
        _pad0: u32,
        _pad1: u32,
    }
}

uniform_struct! {
    /// `unpack.wgsl` and `emit.wgsl`.
    pub(crate) struct PixelParams {
        quads: u32,
        height: u32,
        width: u32,
        channels: u32,
        photo_height: u32,
        photo_width: u32,
        affine_base: u32,
        affine_on: u32,
        relu: u32,
        residual_on: u32,
        upsample: u32,
        activation: u32,
        low: f32,
        high: f32,
        src_height: u32,
        src_width: u32,
    }
}

uniform_struct! {
    /// `src/web/live.wgsl` (the live frame pass, `gpu::frame`): the working size, the frame's size, and how
    /// `pixels::finish` finishes the drawn output. Padded to a multiple of 16 bytes.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) struct FrameUniforms {
        width: u32,
        height: u32,
        source_width: u32,
        source_height: u32,
        strength: f32,
        keep_colour: u32,
        _pad0: u32,
        _pad1: u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::frame;
    use crate::gpu::kernels::{ConvTile, Kernel, PixelFormat, Precision};

    fn wgsl_layout(source: &str, name: &str) -> (Vec<(String, usize)>, usize) {
        let module = match naga::front::wgsl::parse_str(source) {
            Ok(module) => module,
            Err(e) => panic!("shader does not parse: {}", e.emit_to_string(source)),
        };
        let found = module.types.iter().find(|(_, ty)| ty.name.as_deref() == Some(name));
        let Some((_, ty)) = found else { panic!("no struct {name} in the shader") };
        let naga::TypeInner::Struct { members, span } = &ty.inner else { panic!("{name} is not a struct") };
        let members = members.iter().map(|m| (m.name.clone().unwrap_or_default(), m.offset as usize)).collect();
        (members, *span as usize)
    }

    fn check(source: &str, name: &str, members: &[(&str, usize)], size: usize) {
        let (wgsl, span) = wgsl_layout(source, name);
        let rust: Vec<(String, usize)> = members.iter().map(|(n, o)| (n.to_string(), *o)).collect();
        assert_eq!(wgsl, rust, "{name}: WGSL and Rust members differ");
        assert_eq!(span, size, "{name}: WGSL and Rust sizes differ");
    }

    #[test]
    fn wgsl_structs_match() {
        let size = std::mem::size_of::<ConvParams>();
        check(&Kernel::Conv2d.source(), "ConvParams", ConvParams::MEMBERS, size);
        check(&Kernel::NormStats.source(), "NormParams", NormParams::MEMBERS, std::mem::size_of::<NormParams>());
        check(&Kernel::Relu.source(), "EltParams", EltParams::MEMBERS, std::mem::size_of::<EltParams>());
        let size = std::mem::size_of::<UpsampleParams>();
        check(&Kernel::Upsample.source(), "UpsampleParams", UpsampleParams::MEMBERS, size);
        check(&Kernel::GlobalAvgPool.source(), "PoolParams", PoolParams::MEMBERS, std::mem::size_of::<PoolParams>());
        for precision in [Precision::F32, Precision::F16] {
            for tile in ConvTile::ALL {
                let size = std::mem::size_of::<TiledConvParams>();
                check(&Kernel::ConvTiled(tile, precision).source(), "TiledConvParams", TiledConvParams::MEMBERS, size);
            }
            for format in [PixelFormat::Rgba8, PixelFormat::Planar] {
                for kernel in [Kernel::Unpack(format, precision), Kernel::Emit(format, precision)] {
                    let size = std::mem::size_of::<PixelParams>();
                    check(&kernel.source(), "PixelParams", PixelParams::MEMBERS, size);
                }
            }
        }
        let size = std::mem::size_of::<FinishParams>();
        check(&Kernel::NormFinish.source(), "FinishParams", FinishParams::MEMBERS, size);
        let size = std::mem::size_of::<FrameUniforms>();
        check(&frame::shader(), "FrameUniforms", FrameUniforms::MEMBERS, size);
    }

    /// What the prelude or a snippet defines is defined nowhere else: a shader that declared its own copy would drift
    /// from Rust or from the other kernels.
    #[test]
    fn shaders_take_shared_code_from_the_prelude_and_snippets_only() {
        for kernel in Kernel::all() {
            let file = kernel.file();
            for shared in [
                "override WG",
                "REDUCTION_CAPACITY: u32",
                "OC4_PIXELS: u32",
                "DEPTHWISE_PIXELS: u32",
                "fn linear_index",
                "fn padded_index",
                "struct PixelParams",
                "struct Moments",
                "fn chan(",
                "struct PendingWork",
                "fn load_finished",
                "alias Act",
                "TILE_W: u32",
                "OCQ: u32",
                "WINDOW_CAPACITY: u32",
            ] {
                assert!(
                    !file.contains(shared),
                    "{kernel:?}'s shader declares `{shared}`, which the prelude or a snippet owns"
                );
            }
            assert!(!file.contains("groups.x * WG"), "{kernel:?}'s shader rebuilds the linear index by hand");
        }
    }

    fn validate(what: &str, source: &str, capabilities: naga::valid::Capabilities) -> naga::Module {
        let module = naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{}", e.emit_to_string(source)));
        let mut validator = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), capabilities);
        if let Err(e) = validator.validate(&module) {
            panic!("{what}: {}", e.emit_to_string(source));
        }
        module
    }

    #[test]
    fn every_shader_validates() {
        for kernel in Kernel::all() {
            let capabilities = match kernel.precision() {
                Some(Precision::F16) => naga::valid::Capabilities::SHADER_FLOAT16,
                _ => naga::valid::Capabilities::empty(),
            };
            let module = validate(&format!("{kernel:?}"), &kernel.source(), capabilities);
            assert!(module.entry_points.iter().any(|e| e.name == kernel.entry()), "{kernel:?} has no entry point");
        }
        // The live frame pass, otherwise compiled only in a browser.
        let module = validate("live.wgsl", &frame::shader(), naga::valid::Capabilities::empty());
        for entry in ["upload", "vertex", "fragment"] {
            assert!(module.entry_points.iter().any(|e| e.name == entry), "live.wgsl has no {entry}");
        }
    }
}
