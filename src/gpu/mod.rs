//! The GPU executor (wgpu): the same graph as the CPU executor, run as WGSL compute kernels.
//!
//! - `context`: adapter, device, limits, and GPU errors turned into `Error`s.
//! - `kernels`: the shaders, the workgroup size, and pipelines cached by kernel.
//! - `weights`: int8 conv weights packed four to a u32, uploaded once.
//! - `record`: what a plan is recorded in (bindings, steps, buffers by size, dispatch parameters, the recorder and
//!   the layout it finishes as, and its cost), below both recorders.
//! - `fused`: the fused recorder (tiled convs, norms folded into the convs around them, activations in quads).
//! - `plan`: per input size, buffers (reused once a value is dead), bind groups and dispatch parameters realised on
//!   the device; the baseline recorder (one kernel per op), and the choice between it and the fused one.
//! - `cost`: what a recorded plan costs (dispatches, bytes, workgroups, FLOPs), without a device.
//! - `uniforms`: the per-dispatch parameter structs shared with the shaders, and the live frame pass's.
//! - `frame`: the live frame pass's shader (`src/web/live.wgsl`) with its constants, for `web::live` and the tests.
//!
//! A run writes the input and the style parameters, records every dispatch into one command encoder, submits once
//! and reads the output back. `run_conv_tile` does the same for one conv on one tile of a layer-by-layer tiled run.

mod context;
mod cost;
pub(crate) mod frame;
mod fused;
mod kernels;
mod oneshot;
mod plan;
mod record;
pub(crate) mod uniforms;
mod weights;

pub use cost::{PlanCost, GIB};
pub use kernels::Precision;
pub use record::KernelSet;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use context::Context;
use kernels::{Kernel, Pipelines, PixelFormat};
use plan::{Plan, Resources, Step};
use record::{Io, RecordOptions};
use weights::ConvBuffers;

use crate::cpu::NormWeights;
use crate::error::{Error, Result};
use crate::graph::{Graph, Op, Shape, Tensor};
use crate::style::StyleParams;

/// What `vitrine info` reports about the adapter.
#[derive(Clone, Debug)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub shader_f16: bool,
    pub max_storage_binding: u64,
    /// A rasteriser on the CPU (lavapipe, SwiftShader): correct, but slower than vitrine's own CPU executor.
    pub software: bool,
}

/// Plans kept at once; each holds its activation buffers, so a page alternating between a few sizes stays warm
/// without memory growing with every size it has seen.
const MAX_PLANS: usize = 4;

/// Conv-tile plans kept at once, counted apart from whole-graph plans so a tiled run does not evict them. A layer
/// cut into a grid has at most four tile sizes (inner, right edge, bottom edge, corner), so each layer stays warm
/// while its tiles run; each plan holds one input and one output tile buffer.
const MAX_TILE_PLANS: usize = 4;

/// What a cached plan runs: the whole graph at an input size, or one conv node on a padded tile of a size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PlanKey {
    /// `weighted`: every instance norm's statistics weighted by planes written with each run.
    Graph {
        height: usize,
        width: usize,
        io: Io,
        weighted: bool,
    },
    /// The graph cut before node `upto` (`Graph::prefix`), for per-layer statistics passes over tiles.
    Prefix {
        upto: usize,
        height: usize,
        width: usize,
    },
    ConvTile {
        node: usize,
        height: usize,
        width: usize,
    },
}

impl PlanKey {
    fn is_tile(&self) -> bool {
        matches!(self, PlanKey::ConvTile { .. })
    }
}

pub struct GpuExecutor {
    ctx: Context,
    pipelines: Pipelines,
    /// Per node: the conv's uploaded weights.
    convs: Vec<Option<ConvBuffers>>,
    style: wgpu::Buffer,
    style_len: usize,
    node_count: usize,
    /// Each plan with the kernels and precision it was recorded with, so switching them (a benchmark comparing
    /// kernels) keeps both sets warm.
    plans: Vec<((PlanKey, KernelSet, Precision), Plan)>,
    clock: u64,
    kernels: KernelSet,
    /// How the fused plan stores activations: f16 where the device has `shader-f16`, chosen once per device.
    precision: Precision,
    /// Results mapped back to the host.
    readbacks: AtomicU64,
    /// Submissions left before the device is destroyed, for tests of a loss in the middle of a run (`NO_FAULT`: never).
    lose_after: AtomicU32,
}

const NO_FAULT: u32 = u32::MAX;

impl GpuExecutor {
    /// Creates a device on any adapter, software renderers included, uploads `graph`'s weights and builds the
    /// pipelines it needs.
    pub async fn new(graph: &Graph) -> Result<Self> {
        Self::create(graph, true).await
    }

    /// As `new`, but refuses a software adapter before compiling anything: on one, the CPU executor is faster.
    pub(crate) async fn new_hardware(graph: &Graph) -> Result<Self> {
        Self::create(graph, false).await
    }

    async fn create(graph: &Graph, allow_software: bool) -> Result<Self> {
        let ctx = Context::new().await?;
        if ctx.summary.software && !allow_software {
            let reason =
                format!("the GPU adapter ({}) is a software renderer, slower than the CPU path", ctx.summary.name);
            return Err(Error::GpuUnavailable { reason });
        }
        let limit = ctx.max_buffer();
        let style_bytes = graph.style_params_len().max(1) as u64 * 4;
        if style_bytes > limit {
            return Err(Error::GpuBufferLimit { needed: style_bytes, limit });
        }
        let mut pipelines = Pipelines::new();
        let precision = default_precision(&ctx);
        let setup = ctx.scoped("uploading the model", || {
            let mut convs = Vec::with_capacity(graph.nodes().len());
            for node in graph.nodes() {
                convs.push(match &node.op {
                    Op::Conv2d(conv) => Some(weights::upload(&ctx.device, conv, limit)?),
                    Op::InstanceNorm(_)
                    | Op::Relu
                    | Op::Clip { .. }
                    | Op::Sigmoid
                    | Op::Add
                    | Op::UpsampleNearest { .. }
                    | Op::GlobalAvgPool
                    | Op::ChannelAffine { .. } => None,
                });
            }
            for kernel in kernels_used(graph, precision) {
                pipelines.get(&ctx.device, kernel);
            }
            let style = ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("style parameters"),
                size: style_bytes,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            Ok((convs, style))
        });
        let (convs, style) = setup.await?;
        ctx.health.check()?;
        Ok(GpuExecutor {
            ctx,
            pipelines,
            convs,
            style,
            style_len: graph.style_params_len(),
            node_count: graph.nodes().len(),
            plans: Vec::new(),
            clock: 0,
            kernels: KernelSet::Fused,
            precision,
            readbacks: AtomicU64::new(0),
            lose_after: AtomicU32::new(NO_FAULT),
        })
    }

    pub fn summary(&self) -> &AdapterSummary {
        &self.ctx.summary
    }

    /// Whether the device is gone for good (a driver reset, a removed GPU); a new executor may still get one.
    pub fn is_lost(&self) -> bool {
        self.ctx.health.is_lost()
    }

    /// Destroys the device, as a driver reset would. For tests of what happens next.
    #[doc(hidden)]
    pub fn lose_device(&self) {
        self.ctx.device.destroy();
        self.ctx.health.mark_lost("destroyed on request".into());
    }

    /// Destroys the device when `submissions` more submissions have gone out (0: at the next one), as a driver reset
    /// in the middle of a tiled run would. For tests of what happens next.
    #[doc(hidden)]
    pub fn lose_device_after(&self, submissions: u32) {
        self.lose_after.store(submissions, Ordering::Relaxed);
    }

    /// Plans cached: whole-graph plans per input size and conv-tile plans per (node, tile size).
    pub fn plan_count(&self) -> usize {
        self.plans.len()
    }

    /// The largest buffer this device binds: no tensor (a whole activation, or a tile and its conv output) may be
    /// larger, so a tiling planner sizes tiles by it.
    pub fn buffer_limit(&self) -> u64 {
        self.ctx.max_buffer()
    }

    /// Runs every conv that the reference kernel can take on it (depthwise ones included), for tests that hold the
    /// faster kernels to it.
    #[doc(hidden)]
    pub fn use_plain_convs(&mut self, plain: bool) {
        self.use_kernels(if plain { KernelSet::Plain } else { KernelSet::Fused });
    }

    /// Which kernels plans are recorded with (the fused ones unless told otherwise), for tests and benchmarks that
    /// compare them in one process.
    #[doc(hidden)]
    pub fn use_kernels(&mut self, kernels: KernelSet) {
        self.kernels = kernels;
    }

    pub fn kernels(&self) -> KernelSet {
        self.kernels
    }

    /// How the fused plan stores activations on this device.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Stores activations as `precision`; f16 needs the device's `shader-f16`.
    #[doc(hidden)]
    pub fn use_precision(&mut self, precision: Precision) -> Result<()> {
        if precision == Precision::F16 && !self.ctx.features.contains(wgpu::Features::SHADER_F16) {
            return Err(Error::GpuUnavailable { reason: format!("{} has no shader-f16", self.ctx.summary.name) });
        }
        self.precision = precision;
        Ok(())
    }

    /// Results read back from the GPU since the executor was made.
    pub fn readbacks(&self) -> u64 {
        self.readbacks.load(Ordering::Relaxed)
    }

    /// The device and queue, for code that records its own passes around a run (frames drawn to a canvas).
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn device(&self) -> &wgpu::Device {
        &self.ctx.device
    }

    #[cfg(target_arch = "wasm32")]
    pub(crate) fn queue(&self) -> &wgpu::Queue {
        &self.ctx.queue
    }

    /// The instance the device came from: a surface drawn with this device must be made on it.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn instance(&self) -> &wgpu::Instance {
        &self.ctx.instance
    }

    #[cfg(target_arch = "wasm32")]
    pub(crate) fn adapter(&self) -> &wgpu::Adapter {
        &self.ctx.adapter
    }

    fn record_options(&self) -> RecordOptions {
        RecordOptions::for_device(&self.ctx, self.kernels, self.precision)
    }

    /// Runs `graph` (the one given to `new`) on a planar input; one submission per call.
    pub async fn run(&mut self, graph: &Graph, input: &Tensor, params: &StyleParams) -> Result<Tensor> {
        self.run_planar(graph, input, params, None).await
    }

    /// `run` with every instance norm's statistics weighted per pixel by `weights` (at the input's size; a product's
    /// matte), as `cpu::run_weighted` weighs them: each norm reads the plane at its resolution (`NormWeights::at`),
    /// all planes written once per run; a plane with no weight anywhere is written as ones, the plain statistics.
    /// The fused plan's convs weigh their tiles' statistics, the baseline's norm statistics pass weighs its own.
    pub async fn run_weighted(
        &mut self,
        graph: &Graph,
        input: &Tensor,
        params: &StyleParams,
        weights: &NormWeights,
    ) -> Result<Tensor> {
        self.run_planar(graph, input, params, Some(weights)).await
    }

    /// `run` and `run_weighted`: the plan for the input's size, weighted or not, and one submission.
    async fn run_planar(
        &mut self,
        graph: &Graph,
        input: &Tensor,
        params: &StyleParams,
        weights: Option<&NormWeights>,
    ) -> Result<Tensor> {
        self.ctx.health.check()?;
        self.check_graph(graph, params)?;
        check_input(graph, input)?;
        let (height, width, weighted) = (input.shape.height, input.shape.width, weights.is_some());
        let slot = self.plan(graph, PlanKey::Graph { height, width, io: Io::Planar, weighted }).await?;
        let mut planes = Vec::new();
        if let Some(weights) = weights {
            for plane in &self.plans[slot].1.weight_planes {
                let mut values = weights.at(plane.height, plane.width)?;
                if values.iter().all(|&w| w == 0.0) {
                    values.fill(1.0);
                }
                planes.push(values);
            }
        }
        let bytes = self.execute(slot, bytemuck::cast_slice(&input.data), Some(params), &planes).await?;
        self.tensor_of(slot, &bytes)
    }

    /// Whether `run_rgba` can take `graph` (the fused plan can), so a caller may send pixels rather than a tensor.
    pub(crate) fn takes_pixels(&self, graph: &Graph) -> bool {
        self.kernels == KernelSet::Fused && fused::takes_pixels(graph)
    }

    /// Runs `graph` on a `width x height` RGBA8 photo (row-major, no row padding), padded on the GPU to the network's
    /// `padded` size (height, width) as `pixels::prepare` pads it, and returns the styled photo at its own size as
    /// RGBA8 at full strength with alpha 255: a quarter of a planar run's upload and readback.
    pub async fn run_rgba(
        &mut self,
        graph: &Graph,
        rgba: &[u8],
        (width, height): (usize, usize),
        padded: (usize, usize),
        params: &StyleParams,
    ) -> Result<Vec<u8>> {
        self.ctx.health.check()?;
        self.check_graph(graph, params)?;
        if width.checked_mul(height).and_then(|n| n.checked_mul(4)) != Some(rgba.len()) {
            return Err(Error::internal(format!("{} bytes are not a {width}x{height} RGBA8 image", rgba.len())));
        }
        let key =
            PlanKey::Graph { height: padded.0, width: padded.1, io: Io::Rgba8 { width, height }, weighted: false };
        let slot = self.plan(graph, key).await?;
        self.execute(slot, rgba, Some(params), &[]).await
    }

    /// Records a whole run of `graph` with `params` on an RGBA8 image already on the GPU into `encoder`: `input`
    /// holds `width x height` words (RGBA8, byte 0 red, row-major, no row padding; COPY_SRC), `output` (same layout;
    /// COPY_DST) receives the styled image at full strength with alpha 255. `width` and `height` must be sizes the
    /// network takes whole (`Model::padded_size` returns them unchanged). Writes the style parameters with
    /// `Queue::write_buffer`; nothing is read back.
    #[allow(clippy::too_many_arguments)]
    #[cfg(target_arch = "wasm32")]
    pub(crate) async fn encode_rgba(
        &mut self,
        graph: &Graph,
        params: &StyleParams,
        width: usize,
        height: usize,
        input: &wgpu::Buffer,
        output: &wgpu::Buffer,
        encoder: &mut wgpu::CommandEncoder,
    ) -> Result<()> {
        self.ctx.health.check()?;
        self.check_graph(graph, params)?;
        let bytes = (width as u64 * height as u64) * 4;
        if input.size() < bytes || output.size() < bytes {
            return Err(Error::internal(format!("buffers too small for a {width}x{height} frame")));
        }
        let key = PlanKey::Graph { height, width, io: Io::Rgba8 { width, height }, weighted: false };
        let slot = self.plan(graph, key).await?;
        if !params.0.is_empty() {
            self.ctx.queue.write_buffer(&self.style, 0, bytemuck::cast_slice(&params.0));
        }
        let plan = &self.plans[slot].1;
        encoder.copy_buffer_to_buffer(input, 0, &plan.buffers[plan.input], 0, bytes);
        self.record_steps(plan, encoder)?;
        encoder.copy_buffer_to_buffer(&plan.buffers[plan.output], 0, output, 0, bytes);
        Ok(())
    }

    fn check_graph(&self, graph: &Graph, params: &StyleParams) -> Result<()> {
        if graph.nodes().len() != self.node_count || params.0.len() != self.style_len {
            return Err(Error::internal("this GPU executor was built for a different graph"));
        }
        Ok(())
    }

    fn tensor_of(&self, slot: usize, bytes: &[u8]) -> Result<Tensor> {
        let shape = self.plans[slot].1.output_shape;
        Tensor::from_vec(shape, bytemuck::pod_collect_to_vec::<u8, f32>(bytes))
    }

    /// Runs `graph` (the one given to `new`, or one with the same nodes and weights whose norms are frozen) up to,
    /// not including, node `upto`, and returns that node's input: a statistics pass over one tile.
    pub(crate) async fn run_prefix(
        &mut self,
        graph: &Graph,
        upto: usize,
        input: &Tensor,
        params: &StyleParams,
    ) -> Result<Tensor> {
        self.ctx.health.check()?;
        self.check_graph(graph, params)?;
        if upto >= graph.nodes().len() {
            return Err(Error::internal("this GPU executor was built for a different graph"));
        }
        check_input(graph, input)?;
        let key = PlanKey::Prefix { upto, height: input.shape.height, width: input.shape.width };
        let slot = self.plan(graph, key).await?;
        let bytes = self.execute(slot, bytemuck::cast_slice(&input.data), Some(params), &[]).await?;
        self.tensor_of(slot, &bytes)
    }

    /// Runs conv node `node` of `graph` (the one given to `new`) on `input`, a tile the caller has already padded:
    /// zero padding on every side, so the output is the valid convolution of the tile, with the weights uploaded for
    /// that node. For a tiled run that keeps whole-image tensors in host memory; one submission per call.
    pub async fn run_conv_tile(&mut self, graph: &Graph, node: usize, input: &Tensor) -> Result<Tensor> {
        self.ctx.health.check()?;
        if graph.nodes().len() != self.node_count {
            return Err(Error::internal("this GPU executor was built for a different graph"));
        }
        let Some(Op::Conv2d(conv)) = graph.nodes().get(node).map(|n| &n.op) else {
            return Err(Error::internal(format!("node {node} is not a convolution")));
        };
        if input.data.len() != input.shape.len() {
            return Err(Error::internal(format!("the tile {:?} holds {} values", input.shape, input.data.len())));
        }
        plan::conv_tile_shape(conv, input.shape)?;
        let key = PlanKey::ConvTile { node, height: input.shape.height, width: input.shape.width };
        let slot = self.plan(graph, key).await?;
        let bytes = self.execute(slot, bytemuck::cast_slice(&input.data), None, &[]).await?;
        self.tensor_of(slot, &bytes)
    }

    /// The cached plan for `key`, built if missing (dropping the least recently used plan of its kind when full).
    async fn plan(&mut self, graph: &Graph, key: PlanKey) -> Result<usize> {
        self.clock += 1;
        let cache_key = (key, self.kernels, self.precision);
        if let Some(slot) = self.plans.iter().position(|(k, _)| *k == cache_key) {
            self.plans[slot].1.last_used = self.clock;
            return Ok(slot);
        }
        let opts = self.record_options();
        // Tiles of a layered run are planar tensors: the baseline conv kernels take them.
        let tile_opts = RecordOptions {
            kernels: if self.kernels == KernelSet::Plain { KernelSet::Plain } else { KernelSet::Baseline },
            ..opts
        };
        let ctx = &self.ctx;
        let pipelines = &mut self.pipelines;
        let res = Resources { convs: &self.convs, style: &self.style };
        let mut plan = match key {
            PlanKey::Graph { height, width, io, weighted } => {
                let opts = RecordOptions { weighted, ..opts };
                let build = || Plan::build(ctx, pipelines, &res, graph, (height, width), &opts, io);
                ctx.scoped("preparing buffers for this image size", build).await?
            }
            PlanKey::Prefix { upto, height, width } => {
                let prefix = graph.prefix(upto)?;
                let build = || Plan::build(ctx, pipelines, &res, &prefix, (height, width), &opts, Io::Planar);
                ctx.scoped("preparing buffers for this image size", build).await?
            }
            PlanKey::ConvTile { node, height, width } => {
                let build = || {
                    let Some(Op::Conv2d(conv)) = graph.nodes().get(node).map(|n| &n.op) else {
                        return Err(Error::internal(format!("node {node} is not a convolution")));
                    };
                    let shape = Shape::new(conv.weights.in_per_group * conv.groups, height, width);
                    Plan::conv_tile(ctx, pipelines, &res, conv, node, shape, &tile_opts)
                };
                ctx.scoped("preparing buffers for this tile size", build).await?
            }
        };
        plan.last_used = self.clock;
        let bound = if key.is_tile() { MAX_TILE_PLANS } else { MAX_PLANS };
        let same_kind: Vec<usize> =
            (0..self.plans.len()).filter(|&i| self.plans[i].0 .0.is_tile() == key.is_tile()).collect();
        if same_kind.len() >= bound {
            if let Some(&oldest) = same_kind.iter().min_by_key(|&&i| self.plans[i].1.last_used) {
                self.plans.swap_remove(oldest);
            }
        }
        self.plans.push((cache_key, plan));
        Ok(self.plans.len() - 1)
    }

    /// Uploads the input (and the style parameters, for a whole-graph plan, and a weighted plan's weight planes, one
    /// per `plan.weight_planes`), records every step, submits once and reads the output's bytes back.
    async fn execute(
        &self,
        slot: usize,
        input: &[u8],
        params: Option<&StyleParams>,
        planes: &[Vec<f32>],
    ) -> Result<Vec<u8>> {
        let plan = &self.plans[slot].1;
        if planes.len() != plan.weight_planes.len()
            || planes.iter().zip(&plan.weight_planes).any(|(values, plane)| values.len() * 4 != plane.bytes() as usize)
        {
            return Err(Error::internal("the norm weights do not fit this plan's planes"));
        }
        let ctx = &self.ctx;
        let left = self.lose_after.load(Ordering::Relaxed);
        if left != NO_FAULT {
            self.lose_after.store(left.saturating_sub(1), Ordering::Relaxed);
            if left == 0 {
                self.lose_after.store(NO_FAULT, Ordering::Relaxed);
                self.lose_device();
            }
        }

        let (sender, receiver) = oneshot::channel();
        let bytes = plan.output_bytes;
        let submitted = ctx.scoped("running the network", || {
            ctx.queue.write_buffer(&plan.buffers[plan.input], 0, input);
            if let Some(params) = params.filter(|p| !p.0.is_empty()) {
                ctx.queue.write_buffer(&self.style, 0, bytemuck::cast_slice(&params.0));
            }
            for (values, plane) in planes.iter().zip(&plan.weight_planes) {
                ctx.queue.write_buffer(plan.weights_buffer(), plane.offset, bytemuck::cast_slice(values));
            }
            let mut encoder =
                ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("vitrine run") });
            self.record_steps(plan, &mut encoder)?;
            encoder.copy_buffer_to_buffer(&plan.buffers[plan.output], 0, &plan.staging, 0, bytes.next_multiple_of(4));
            let index = ctx.queue.submit([encoder.finish()]);
            plan.staging.slice(..).map_async(wgpu::MapMode::Read, move |result| sender.send(result));
            Ok(index)
        });
        let submission = submitted.await?;
        self.readbacks.fetch_add(1, Ordering::Relaxed);

        #[cfg(not(target_arch = "wasm32"))]
        let mapped = {
            let waited = ctx.device.poll(wgpu::PollType::Wait { submission_index: Some(submission), timeout: None });
            if let Err(e) = waited {
                ctx.health.mark_lost(e.to_string());
                return Err(Error::GpuFailed { reason: format!("waiting for the GPU: {e}") });
            }
            receiver.try_take()
        };
        #[cfg(target_arch = "wasm32")]
        let mapped = {
            let _ = submission;
            receiver.await
        };
        ctx.health.check()?;
        match mapped {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(Error::GpuFailed { reason: format!("reading the result back: {e}") }),
            None => return Err(Error::GpuFailed { reason: "the GPU never returned the result".into() }),
        }
        let data = {
            let view = plan
                .staging
                .slice(..)
                .get_mapped_range()
                .map_err(|e| Error::GpuFailed { reason: format!("reading the result back: {e}") })?;
            view[..bytes as usize].to_vec()
        };
        plan.staging.unmap();
        Ok(data)
    }

    /// GPU time of every dispatch of a whole-graph run of `input`, where the device has `timestamp-query` (`None`
    /// where it has not): each dispatch in a compute pass of its own, timestamped at its start and end. One
    /// submission; the run's result is discarded. For the benchmark's `--profile`.
    #[cfg(not(target_arch = "wasm32"))]
    pub async fn profile(
        &mut self,
        graph: &Graph,
        input: &Tensor,
        params: &StyleParams,
    ) -> Result<Option<Vec<(String, String, f64)>>> {
        if !self.ctx.features.contains(wgpu::Features::TIMESTAMP_QUERY) {
            return Ok(None);
        }
        self.ctx.health.check()?;
        self.check_graph(graph, params)?;
        let key =
            PlanKey::Graph { height: input.shape.height, width: input.shape.width, io: Io::Planar, weighted: false };
        let slot = self.plan(graph, key).await?;
        let plan = &self.plans[slot].1;
        let ctx = &self.ctx;
        let dispatches: Vec<(String, String)> = plan
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Dispatch { kernel, node, .. } => Some((node.clone(), cost::kernel_name(*kernel))),
                Step::Copy { .. } => None,
            })
            .collect();
        let count = u32::try_from(2 * dispatches.len()).map_err(|_| Error::internal("too many dispatches"))?;
        let bytes = u64::from(count) * 8;
        let (sender, receiver) = oneshot::channel();
        let recorded = ctx.scoped("timing the network", || {
            let queries = ctx.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("dispatch timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count,
            });
            let buffer = |usage| {
                ctx.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("dispatch timestamps"),
                    size: bytes,
                    usage,
                    mapped_at_creation: false,
                })
            };
            let resolved = buffer(wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC);
            let readback = buffer(wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);
            ctx.queue.write_buffer(&plan.buffers[plan.input], 0, bytemuck::cast_slice(&input.data));
            if !params.0.is_empty() {
                ctx.queue.write_buffer(&self.style, 0, bytemuck::cast_slice(&params.0));
            }
            let mut encoder =
                ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("vitrine timing") });
            let mut index = 0u32;
            for step in &plan.steps {
                match step {
                    Step::Copy { src, dst, bytes } => {
                        encoder.copy_buffer_to_buffer(&plan.buffers[*src], 0, &plan.buffers[*dst], 0, *bytes);
                    }
                    Step::Dispatch { kernel, bind_group, grid, .. } => {
                        let pipeline = self
                            .pipelines
                            .built(*kernel)
                            .ok_or_else(|| Error::internal(format!("the {kernel:?} kernel was never built")))?;
                        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                            label: Some("vitrine timed kernel"),
                            timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                                query_set: &queries,
                                beginning_of_pass_write_index: Some(index),
                                end_of_pass_write_index: Some(index + 1),
                            }),
                        });
                        pass.set_pipeline(pipeline);
                        pass.set_bind_group(0, bind_group, &[]);
                        pass.dispatch_workgroups(grid.0, grid.1, 1);
                        index += 2;
                    }
                }
            }
            encoder.resolve_query_set(&queries, 0..count, &resolved, 0);
            encoder.copy_buffer_to_buffer(&resolved, 0, &readback, 0, bytes);
            let submission = ctx.queue.submit([encoder.finish()]);
            readback.slice(..).map_async(wgpu::MapMode::Read, move |result| sender.send(result));
            Ok((submission, readback))
        });
        let (submission, readback) = recorded.await?;
        ctx.device
            .poll(wgpu::PollType::Wait { submission_index: Some(submission), timeout: None })
            .map_err(|e| Error::GpuFailed { reason: format!("waiting for the GPU: {e}") })?;
        match receiver.try_take() {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(Error::GpuFailed { reason: format!("reading the timings back: {e}") }),
            None => return Err(Error::GpuFailed { reason: "the GPU never returned the timings".into() }),
        }
        let ticks: Vec<u64> = {
            let view = readback
                .slice(..)
                .get_mapped_range()
                .map_err(|e| Error::GpuFailed { reason: format!("reading the timings back: {e}") })?;
            bytemuck::pod_collect_to_vec(&view[..])
        };
        let period_ns = f64::from(ctx.queue.get_timestamp_period());
        let times = dispatches
            .into_iter()
            .zip(ticks.chunks_exact(2))
            .map(|((node, kernel), t)| (node, kernel, t[1].saturating_sub(t[0]) as f64 * period_ns / 1e6))
            .collect();
        Ok(Some(times))
    }

    /// Records a plan's steps into `encoder`: consecutive dispatches share one compute pass; copies need the
    /// encoder itself.
    fn record_steps(&self, plan: &Plan, encoder: &mut wgpu::CommandEncoder) -> Result<()> {
        let mut steps = plan.steps.iter().peekable();
        while let Some(step) = steps.next() {
            match step {
                Step::Copy { src, dst, bytes } => {
                    encoder.copy_buffer_to_buffer(&plan.buffers[*src], 0, &plan.buffers[*dst], 0, *bytes);
                }
                Step::Dispatch { .. } => {
                    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: Some("vitrine kernels"),
                        timestamp_writes: None,
                    });
                    let mut next = Some(step);
                    while let Some(Step::Dispatch { kernel, bind_group, grid, .. }) = next {
                        let pipeline = self
                            .pipelines
                            .built(*kernel)
                            .ok_or_else(|| Error::internal(format!("the {kernel:?} kernel was never built")))?;
                        pass.set_pipeline(pipeline);
                        pass.set_bind_group(0, bind_group, &[]);
                        pass.dispatch_workgroups(grid.0, grid.1, 1);
                        next = match steps.peek() {
                            Some(Step::Dispatch { .. }) => steps.next(),
                            _ => None,
                        };
                    }
                }
            }
        }
        Ok(())
    }
}

/// What the plan a whole `width x height` image runs on costs with `kernels` storing `precision`, under WebGPU's
/// default limits (no device needed): RGBA8 in and out where the fused plan takes the graph, as `Styler` sends
/// it, else planar f32.
pub fn plan_cost(
    graph: &Graph,
    height: usize,
    width: usize,
    kernels: KernelSet,
    precision: Precision,
) -> Result<PlanCost> {
    cost_of(graph, height, width, RecordOptions::portable(kernels, precision))
}

/// `plan_cost` with every instance norm's statistics weighted per pixel (`GpuExecutor::run_weighted`'s plan, with
/// the same input and output as `plan_cost`'s, so the two differ by the weighing alone): the weight planes in the
/// upload, and each pass that takes statistics reading them.
pub fn weighted_plan_cost(
    graph: &Graph,
    height: usize,
    width: usize,
    kernels: KernelSet,
    precision: Precision,
) -> Result<PlanCost> {
    cost_of(graph, height, width, RecordOptions { weighted: true, ..RecordOptions::portable(kernels, precision) })
}

fn cost_of(graph: &Graph, height: usize, width: usize, opts: RecordOptions) -> Result<PlanCost> {
    let io = if opts.kernels == KernelSet::Fused && fused::takes_pixels(graph) {
        Io::Rgba8 { width, height }
    } else {
        Io::Planar
    };
    plan::cost(graph, height, width, &opts, io)
}

/// Why the fused plan cannot run `graph` (it then runs on the baseline kernels), or `None`.
pub fn fused_unsupported(graph: &Graph) -> Option<String> {
    fused::unsupported(graph)
}

/// f16 activations where the device can store them, unless `VITRINE_GPU_PRECISION=f32` says otherwise.
fn default_precision(ctx: &Context) -> Precision {
    #[cfg(not(target_arch = "wasm32"))]
    if std::env::var("VITRINE_GPU_PRECISION").is_ok_and(|v| v.eq_ignore_ascii_case("f32")) {
        return Precision::F32;
    }
    if ctx.features.contains(wgpu::Features::SHADER_F16) {
        Precision::F16
    } else {
        Precision::F32
    }
}

/// A planar input must have the graph's channels and hold every value of its shape.
fn check_input(graph: &Graph, input: &Tensor) -> Result<()> {
    if input.shape.channels != graph.input_channels() || input.data.len() != input.shape.len() {
        return Err(Error::internal(format!("the input {:?} does not fit this graph", input.shape)));
    }
    Ok(())
}

/// The adapter wgpu would pick, without compiling anything: for reports such as `vitrine info`.
pub async fn probe() -> Result<AdapterSummary> {
    Ok(Context::new().await?.summary)
}

/// The kernels a graph's ops run on, so their pipelines are built before the first image: the fused plan's where it
/// takes the graph, else the baseline's.
fn kernels_used(graph: &Graph, precision: Precision) -> Vec<Kernel> {
    if fused::unsupported(graph).is_none() {
        // The planar unpack and emit (tensors, for tiles and tests) are built when first needed.
        let rgba8 = PixelFormat::Rgba8;
        let mut used = vec![Kernel::NormFinish, Kernel::Unpack(rgba8, precision), Kernel::Emit(rgba8, precision)];
        used.extend(fused::tiles_used(graph).into_iter().map(|tile| Kernel::ConvTiled(tile, precision)));
        return used;
    }
    let mut used = Vec::new();
    for node in graph.nodes() {
        let kernels: &[Kernel] = match &node.op {
            Op::Conv2d(conv) => &[weights::conv_kernel(conv, false)],
            Op::InstanceNorm(_) => &[Kernel::NormStats, Kernel::NormApply],
            Op::Relu => &[Kernel::Relu],
            Op::Clip { .. } => &[Kernel::Clip],
            Op::Sigmoid => &[Kernel::Sigmoid],
            Op::Add => &[Kernel::Add],
            Op::ChannelAffine { .. } => &[Kernel::ChannelAffine],
            Op::UpsampleNearest { .. } => &[Kernel::Upsample],
            Op::GlobalAvgPool => &[Kernel::GlobalAvgPool],
        };
        for &kernel in kernels {
            if !used.contains(&kernel) {
                used.push(kernel);
            }
        }
    }
    used
}
