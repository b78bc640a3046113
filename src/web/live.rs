//! Live frames on WebGPU with nothing read back (`www/lib/live.js` drives it, one frame at a time).
//!
//! Per frame: the browser copies the frame (a `VideoFrame`, `ImageBitmap`, `<video>` or canvas) into a texture
//! (`copy_external_image_to_texture`); a compute pass writes it at the working size as the RGBA8 words the network
//! takes; the executor records the whole network into the same encoder (`GpuExecutor::encode_rgba`); a render pass
//! draws the output with the frame into the canvas's WebGPU context, finishing it as `pixels::finish` does
//! (strength, keep-colours). One submission, no readback, no pixel through wasm memory. Strength and keep-colours
//! are a uniform, a style is new norm parameters: neither builds a pipeline. Buffers and the texture are made again
//! only when the working size or the frame's size changes.
//!
//! A session owns its executor (its own device), so frames never wait behind, or borrow, the `Styler`'s calls.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::options::{checked_strength, style_request_of, StyleRequest};
use crate::gpu::frame::{self, WG_X, WG_Y};
use crate::gpu::uniforms::FrameUniforms;
use crate::gpu::GpuExecutor;
use crate::{pixels, Error, Model, StyleInput, StyleParams};

/// Resolves once the GPU has finished the work submitted before it was made (`Queue::on_submitted_work_done`).
struct WorkDone(Arc<Mutex<(bool, Option<Waker>)>>);

impl WorkDone {
    /// Also writes, into `gpu_ms`, the milliseconds from now until the GPU has done the work.
    fn after(queue: &wgpu::Queue, gpu_ms: &Arc<Mutex<f64>>) -> WorkDone {
        let state = Arc::new(Mutex::new((false, None::<Waker>)));
        let signal = Arc::clone(&state);
        let (submitted, gpu_ms) = (js_sys::Date::now(), Arc::clone(gpu_ms));
        queue.on_submitted_work_done(move || {
            *gpu_ms.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = js_sys::Date::now() - submitted;
            let mut done = signal.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            done.0 = true;
            if let Some(waker) = done.1.take() {
                waker.wake();
            }
        });
        WorkDone(state)
    }
}

impl Future for WorkDone {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut done = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if done.0 {
            return Poll::Ready(());
        }
        done.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

type ScopeResult = Pin<Box<dyn Future<Output = Option<wgpu::Error>>>>;

/// Frames submitted and not yet known to be done. A new frame first waits until fewer than this many are, so the
/// GPU works on one frame while the next is recorded, and frames never pile up there.
const FRAMES_IN_FLIGHT: usize = 2;

/// A frame submitted: when the GPU has done it, and its validation and memory errors.
struct InFlight {
    done: WorkDone,
    scopes: [ScopeResult; 2],
}

/// What depends on the working size and the frame's size.
struct Sized {
    width: u32,
    height: u32,
    source: (u32, u32),
    texture: wgpu::Texture,
    input: wgpu::Buffer,
    output: wgpu::Buffer,
    upload: wgpu::BindGroup,
    draw: wgpu::BindGroup,
}

/// A live session's GPU side: its executor, the canvas's surface and the two passes around the network.
#[wasm_bindgen]
pub struct WasmLive {
    executor: GpuExecutor,
    model: Model,
    params: StyleParams,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
    uniforms: wgpu::Buffer,
    sampler: wgpu::Sampler,
    upload_layout: wgpu::BindGroupLayout,
    draw_layout: wgpu::BindGroupLayout,
    upload: wgpu::ComputePipeline,
    draw: wgpu::RenderPipeline,
    sized: Option<Sized>,
    in_flight: std::collections::VecDeque<InFlight>,
    /// Submission to done on the GPU, for the last frame done.
    gpu_ms: Arc<Mutex<f64>>,
    strength: f32,
    keep_colour: bool,
}

fn gpu_failed(what: &str, detail: impl std::fmt::Display) -> JsValue {
    Error::GpuFailed { reason: format!("{what}: {detail}") }.into()
}

/// A canvas as a surface target: an `HTMLCanvasElement` in a page, an `OffscreenCanvas` anywhere.
fn surface_target(canvas: JsValue) -> Result<wgpu::SurfaceTarget<'static>, JsValue> {
    if let Some(canvas) = canvas.dyn_ref::<web_sys::OffscreenCanvas>() {
        return Ok(wgpu::SurfaceTarget::OffscreenCanvas(canvas.clone()));
    }
    if let Some(canvas) = canvas.dyn_ref::<web_sys::HtmlCanvasElement>() {
        return Ok(wgpu::SurfaceTarget::Canvas(canvas.clone()));
    }
    Err(super::js_error("BAD_OPTION", "live draws into an HTMLCanvasElement or an OffscreenCanvas"))
}

/// A frame as the browser's copy takes it.
fn external_source(frame: &JsValue) -> Result<wgpu::ExternalImageSource, JsValue> {
    use wgpu::ExternalImageSource as Source;
    if let Some(f) = frame.dyn_ref::<web_sys::VideoFrame>() {
        return Ok(Source::VideoFrame(Clone::clone(f))); // VideoFrame has a JS clone() of its own
    }
    if let Some(b) = frame.dyn_ref::<web_sys::ImageBitmap>() {
        return Ok(Source::ImageBitmap(b.clone()));
    }
    if let Some(v) = frame.dyn_ref::<web_sys::HtmlVideoElement>() {
        return Ok(Source::HTMLVideoElement(v.clone()));
    }
    if let Some(c) = frame.dyn_ref::<web_sys::OffscreenCanvas>() {
        return Ok(Source::OffscreenCanvas(c.clone()));
    }
    if let Some(c) = frame.dyn_ref::<web_sys::HtmlCanvasElement>() {
        return Ok(Source::HTMLCanvasElement(c.clone()));
    }
    Err(super::js_error("BAD_IMAGE", "a live frame is a VideoFrame, an ImageBitmap, an HTMLVideoElement or a canvas"))
}

fn params_of(model: &Model, style: &JsValue) -> Result<StyleParams, JsValue> {
    match (style_request_of(style)?, model.style_input) {
        (StyleRequest::Presets(spec), StyleInput::Presets(count)) => {
            Ok(StyleParams::mix(&model.graph, &spec.resolve(count)?))
        }
        _ => Err(Error::StyleKind {
            reason: "the live frame path paints preset styles and their mixes; a style vector goes through the still path (path: 'still')".into(),
        }
        .into()),
    }
}

#[wasm_bindgen]
impl WasmLive {
    /// Opens a device for `model` (the bytes of the preset model) and a WebGPU surface on `canvas`.
    pub async fn create(
        model: Vec<u8>,
        canvas: JsValue,
        style: JsValue,
        strength: JsValue,
        preserve_color: bool,
    ) -> Result<WasmLive, JsValue> {
        let model = Model::from_bytes(&model)?;
        let params = params_of(&model, &style)?;
        let strength = checked_strength(&strength)?;
        let executor = GpuExecutor::new(&model.graph).await?;
        let surface = executor
            .instance()
            .create_surface(surface_target(canvas)?)
            .map_err(|e| gpu_failed("the canvas gave no WebGPU context", e))?;
        let device = executor.device();
        let caps = surface.get_capabilities(executor.adapter());
        // A linear (not sRGB) format, so the bytes drawn are the bytes the still path writes.
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| !f.is_srgb())
            .ok_or_else(|| gpu_failed("the canvas offers no linear format", format!("{:?}", caps.formats)))?;
        let alpha_mode = if caps.alpha_modes.contains(&wgpu::CompositeAlphaMode::Opaque) {
            wgpu::CompositeAlphaMode::Opaque
        } else {
            caps.alpha_modes.first().copied().unwrap_or(wgpu::CompositeAlphaMode::Auto)
        };
        let config = wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            format,
            width: 0,
            height: 0,
            present_mode: wgpu::PresentMode::Fifo,
            desired_maximum_frame_latency: 1,
            alpha_mode,
            view_formats: vec![],
            color_space: wgpu::SurfaceColorSpace::Auto,
        };
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("live frames"),
            source: wgpu::ShaderSource::Wgsl(frame::shader().into()),
        });
        let uniform_entry = |visibility| wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let storage_entry = |binding, visibility, read_only| wgpu::BindGroupLayoutEntry {
            binding,
            visibility,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let compute = wgpu::ShaderStages::COMPUTE;
        let upload_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("live upload"),
            entries: &[
                uniform_entry(compute),
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: compute,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: true },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 2,
                    visibility: compute,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
                storage_entry(3, compute, false),
            ],
        });
        let fragment = wgpu::ShaderStages::FRAGMENT;
        let draw_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("live draw"),
            entries: &[uniform_entry(fragment), storage_entry(4, fragment, true), storage_entry(5, fragment, true)],
        });
        let pipeline_layout = |layout: &wgpu::BindGroupLayout| {
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: None,
                bind_group_layouts: &[Some(layout)],
                immediate_size: 0,
            })
        };
        let upload = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("live upload"),
            layout: Some(&pipeline_layout(&upload_layout)),
            module: &module,
            entry_point: Some("upload"),
            compilation_options: Default::default(),
            cache: None,
        });
        let draw = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("live draw"),
            layout: Some(&pipeline_layout(&draw_layout)),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vertex"),
                compilation_options: Default::default(),
                buffers: &[],
            },
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fragment"),
                compilation_options: Default::default(),
                targets: &[Some(wgpu::ColorTargetState { format, blend: None, write_mask: wgpu::ColorWrites::ALL })],
            }),
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            multiview_mask: None,
            cache: None,
        });
        let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("live uniforms"),
            size: std::mem::size_of::<FrameUniforms>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("live frame"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        Ok(WasmLive {
            executor,
            model,
            params,
            surface,
            config,
            uniforms,
            sampler,
            upload_layout,
            draw_layout,
            upload,
            draw,
            sized: None,
            in_flight: std::collections::VecDeque::new(),
            gpu_ms: Arc::new(Mutex::new(0.0)),
            strength,
            keep_colour: preserve_color,
        })
    }

    /// A new style, strength and keep-colours for the next frame: norm parameters and a uniform, no pipeline.
    pub fn update(&mut self, style: JsValue, strength: JsValue, preserve_color: bool) -> Result<(), JsValue> {
        let params = params_of(&self.model, &style)?;
        self.strength = checked_strength(&strength)?;
        self.params = params;
        self.keep_colour = preserve_color;
        Ok(())
    }

    /// Milliseconds from submission until the GPU had done the last frame it finished.
    #[wasm_bindgen(getter, js_name = gpuMs)]
    pub fn gpu_ms(&self) -> f64 {
        *self.gpu_ms.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// GPU readbacks since the session's executor was made (none, on this path).
    #[wasm_bindgen(getter)]
    pub fn readbacks(&self) -> f64 {
        self.executor.readbacks() as f64
    }

    /// Styles `frame` at `width x height` (multiples of the network's stride product) into the canvas. Waits until
    /// fewer than `FRAMES_IN_FLIGHT` frames are on the GPU, then resolves in the task that drew this one, while the
    /// canvas still holds it (a snapshot reads it there), with the GPU still working on it.
    pub async fn draw(&mut self, frame: JsValue, width: u32, height: u32) -> Result<(), JsValue> {
        let source = external_source(&frame)?;
        let (sw, sh) = (source.width(), source.height());
        if sw == 0 || sh == 0 {
            return Err(super::js_error("BAD_IMAGE", "the live frame has no pixels yet"));
        }
        // New buffers for a new size: the frames still on the GPU use the old ones, so they finish first.
        let resized =
            !self.sized.as_ref().is_some_and(|s| s.width == width && s.height == height && s.source == (sw, sh));
        let room = if resized { 0 } else { FRAMES_IN_FLIGHT - 1 };
        while self.in_flight.len() > room {
            let Some(InFlight { done, scopes }) = self.in_flight.pop_front() else { break };
            done.await;
            for scope in scopes {
                if let Some(error) = scope.await {
                    return Err(gpu_failed("a live frame", error));
                }
            }
        }
        if self.model.padded_size(width, height) != (width as usize, height as usize) {
            return Err(Error::internal(format!("{width}x{height} is not a size the network takes whole")).into());
        }
        self.resize(width, height, (sw, sh));
        let device = self.executor.device().clone();
        let queue = self.executor.queue().clone();
        let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let memory = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let result = self.record(&device, &queue, source, width, height).await;
        let memory: ScopeResult = Box::pin(memory.pop());
        let validation: ScopeResult = Box::pin(validation.pop());
        self.in_flight
            .push_back(InFlight { done: WorkDone::after(&queue, &self.gpu_ms), scopes: [memory, validation] });
        result
    }
}

impl WasmLive {
    fn resize(&mut self, width: u32, height: u32, source: (u32, u32)) {
        if self.sized.as_ref().is_some_and(|s| s.width == width && s.height == height && s.source == source) {
            return;
        }
        let device = self.executor.device();
        if self.config.width != width || self.config.height != height {
            self.config.width = width;
            self.config.height = height;
            self.surface.configure(device, &self.config);
        }
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("live frame"),
            size: wgpu::Extent3d { width: source.0, height: source.1, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8Unorm,
            usage: wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_DST
                | wgpu::TextureUsages::RENDER_ATTACHMENT,
            view_formats: &[],
        });
        let bytes = u64::from(width) * u64::from(height) * pixels::RGBA as u64;
        let buffer = |label| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let (input, output) = (buffer("live input"), buffer("live output"));
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let upload = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("live upload"),
            layout: &self.upload_layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: self.uniforms.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(&view) },
                wgpu::BindGroupEntry { binding: 2, resource: wgpu::BindingResource::Sampler(&self.sampler) },
                wgpu::BindGroupEntry { binding: 3, resource: input.as_entire_binding() },
            ],
        });
        let draw = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("live draw"),
            layout: &self.draw_layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: self.uniforms.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 4, resource: input.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 5, resource: output.as_entire_binding() },
            ],
        });
        if let Some(old) = self.sized.take() {
            old.free();
        }
        self.sized = Some(Sized { width, height, source, texture, input, output, upload, draw });
    }

    async fn record(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        source: wgpu::ExternalImageSource,
        width: u32,
        height: u32,
    ) -> Result<(), JsValue> {
        let Some(sized) = &self.sized else {
            return Err(Error::internal("a live frame was drawn before its buffers were made").into());
        };
        let (sw, sh) = sized.source;
        queue.copy_external_image_to_texture(
            &wgpu::CopyExternalImageSourceInfo { source, origin: wgpu::Origin2d::ZERO, flip_y: false },
            wgpu::CopyExternalImageDestInfo {
                texture: &sized.texture,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
                color_space: wgpu::PredefinedColorSpace::Srgb,
                premultiplied_alpha: false,
            },
            wgpu::Extent3d { width: sw, height: sh, depth_or_array_layers: 1 },
        );
        let uniforms = FrameUniforms {
            width,
            height,
            source_width: sw,
            source_height: sh,
            strength: self.strength,
            keep_colour: u32::from(self.keep_colour),
            ..FrameUniforms::default()
        };
        queue.write_buffer(&self.uniforms, 0, bytemuck::bytes_of(&uniforms));
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("live frame") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("live upload"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.upload);
            pass.set_bind_group(0, &sized.upload, &[]);
            pass.dispatch_workgroups(width.div_ceil(WG_X), height.div_ceil(WG_Y), 1);
        }
        let (w, h) = (width as usize, height as usize);
        self.executor
            .encode_rgba(&self.model.graph, &self.params, w, h, &sized.input, &sized.output, &mut encoder)
            .await?;
        let target = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(texture) | wgpu::CurrentSurfaceTexture::Suboptimal(texture) => texture,
            other => return Err(gpu_failed("the canvas gave no texture to draw into", format!("{other:?}"))),
        };
        let view = target.texture.create_view(&wgpu::TextureViewDescriptor::default());
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("live draw"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::WHITE),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_pipeline(&self.draw);
            pass.set_bind_group(0, &sized.draw, &[]);
            pass.draw(0..3, 0..1);
        }
        queue.submit([encoder.finish()]);
        queue.present(target);
        Ok(())
    }
}

impl Sized {
    fn free(self) {
        self.texture.destroy();
        self.input.destroy();
        self.output.destroy();
    }
}

impl Drop for WasmLive {
    /// The session's device goes with it, and with the device every buffer the executor made for its plans.
    fn drop(&mut self) {
        if let Some(sized) = self.sized.take() {
            sized.free();
        }
        self.uniforms.destroy();
        self.executor.device().destroy();
    }
}
