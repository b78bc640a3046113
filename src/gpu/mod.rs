//! The GPU executor (wgpu): the same graph as the CPU executor, run as WGSL compute kernels.
//!
//! - `context`: adapter, device, limits, and GPU errors turned into `Error`s.
//! - `kernels`: the shaders, the workgroup size, and pipelines cached by kernel.
//! - `weights`: int8 conv weights packed four to a u32, uploaded once.
//! - `plan`: per input size, buffers (reused once a value is dead), bind groups and dispatch parameters.
//! - `uniforms`: the per-dispatch parameter structs shared with the shaders.
//!
//! A run writes the input and the style parameters, records every dispatch into one command encoder, submits once
//! and reads the output back. `run_conv_tile` does the same for one conv on one tile of a layer-by-layer tiled run.

mod context;
mod kernels;
mod oneshot;
mod plan;
mod uniforms;
mod weights;

pub use kernels::WORKGROUP_SIZE;

use std::sync::atomic::{AtomicU32, Ordering};

use context::Context;
use kernels::{Kernel, Pipelines};
use plan::{Plan, Resources, Step};
use weights::ConvBuffers;

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
    Graph {
        height: usize,
        width: usize,
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
    plans: Vec<(PlanKey, Plan)>,
    clock: u64,
    /// Every conv the flat-packed weights allow on the plain `conv2d` kernel: the reference the faster kernels are
    /// tested against.
    plain_convs: bool,
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
    pub async fn new_hardware(graph: &Graph) -> Result<Self> {
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
        let setup = ctx.scoped("uploading the model", || {
            let mut convs = Vec::with_capacity(graph.nodes().len());
            for node in graph.nodes() {
                convs.push(match &node.op {
                    Op::Conv2d(conv) => Some(weights::upload(&ctx.device, conv, limit)?),
                    _ => None,
                });
            }
            for kernel in kernels_used(graph) {
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
            plain_convs: false,
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
    /// faster kernels to it. Drops cached plans.
    #[doc(hidden)]
    pub fn use_plain_convs(&mut self, plain: bool) {
        if plain != self.plain_convs {
            self.plain_convs = plain;
            self.plans.clear();
        }
    }

    /// Runs `graph` (the one given to `new`) on a planar input; one submission per call.
    pub async fn run(&mut self, graph: &Graph, input: &Tensor, params: &StyleParams) -> Result<Tensor> {
        self.ctx.health.check()?;
        if graph.nodes().len() != self.node_count || params.0.len() != self.style_len {
            return Err(Error::internal("this GPU executor was built for a different graph"));
        }
        if input.shape.channels != graph.input_channels() || input.data.len() != input.shape.len() {
            return Err(Error::internal(format!("the input {:?} does not fit this graph", input.shape)));
        }
        let key = PlanKey::Graph { height: input.shape.height, width: input.shape.width };
        let slot = self.plan(graph, key).await?;
        self.execute(slot, input, Some(params)).await
    }

    /// Runs `graph` (the one given to `new`, or one with the same nodes and weights whose norms are frozen) up to,
    /// not including, node `upto`, and returns that node's input: a statistics pass over one tile.
    pub async fn run_prefix(
        &mut self,
        graph: &Graph,
        upto: usize,
        input: &Tensor,
        params: &StyleParams,
    ) -> Result<Tensor> {
        self.ctx.health.check()?;
        if graph.nodes().len() != self.node_count || params.0.len() != self.style_len || upto >= graph.nodes().len() {
            return Err(Error::internal("this GPU executor was built for a different graph"));
        }
        if input.shape.channels != graph.input_channels() || input.data.len() != input.shape.len() {
            return Err(Error::internal(format!("the input {:?} does not fit this graph", input.shape)));
        }
        let key = PlanKey::Prefix { upto, height: input.shape.height, width: input.shape.width };
        let slot = self.plan(graph, key).await?;
        self.execute(slot, input, Some(params)).await
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
        self.execute(slot, input, None).await
    }

    /// The cached plan for `key`, built if missing (dropping the least recently used plan of its kind when full).
    async fn plan(&mut self, graph: &Graph, key: PlanKey) -> Result<usize> {
        self.clock += 1;
        if let Some(slot) = self.plans.iter().position(|(k, _)| *k == key) {
            self.plans[slot].1.last_used = self.clock;
            return Ok(slot);
        }
        let ctx = &self.ctx;
        let pipelines = &mut self.pipelines;
        let res = Resources { convs: &self.convs, style: &self.style, plain_convs: self.plain_convs };
        let mut plan = match key {
            PlanKey::Graph { height, width } => {
                let build = || Plan::build(ctx, pipelines, &res, graph, height, width);
                ctx.scoped("preparing buffers for this image size", build).await?
            }
            PlanKey::Prefix { upto, height, width } => {
                let prefix = graph.prefix(upto)?;
                let build = || Plan::build(ctx, pipelines, &res, &prefix, height, width);
                ctx.scoped("preparing buffers for this image size", build).await?
            }
            PlanKey::ConvTile { node, height, width } => {
                let build = || {
                    let Some(Op::Conv2d(conv)) = graph.nodes().get(node).map(|n| &n.op) else {
                        return Err(Error::internal(format!("node {node} is not a convolution")));
                    };
                    let shape = Shape::new(conv.weights.in_per_group * conv.groups, height, width);
                    Plan::conv_tile(ctx, pipelines, &res, conv, node, shape)
                };
                ctx.scoped("preparing buffers for this tile size", build).await?
            }
        };
        plan.last_used = self.clock;
        let bound = if key.is_tile() { MAX_TILE_PLANS } else { MAX_PLANS };
        let same_kind: Vec<usize> =
            (0..self.plans.len()).filter(|&i| self.plans[i].0.is_tile() == key.is_tile()).collect();
        if same_kind.len() >= bound {
            if let Some(&oldest) = same_kind.iter().min_by_key(|&&i| self.plans[i].1.last_used) {
                self.plans.swap_remove(oldest);
            }
        }
        self.plans.push((key, plan));
        Ok(self.plans.len() - 1)
    }

    /// Uploads the input (and the style parameters, for a whole-graph plan), records every step, submits once and
    /// reads the output back.
    async fn execute(&self, slot: usize, input: &Tensor, params: Option<&StyleParams>) -> Result<Tensor> {
        let plan = &self.plans[slot].1;
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
        let submitted = ctx.scoped("running the network", || {
            ctx.queue.write_buffer(&plan.buffers[plan.input], 0, bytemuck::cast_slice(&input.data));
            if let Some(params) = params.filter(|p| !p.0.is_empty()) {
                ctx.queue.write_buffer(&self.style, 0, bytemuck::cast_slice(&params.0));
            }
            let mut encoder =
                ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("vitrine run") });
            let mut steps = plan.steps.iter().peekable();
            while let Some(step) = steps.next() {
                match step {
                    Step::Copy { src, dst, bytes } => {
                        encoder.copy_buffer_to_buffer(&plan.buffers[*src], 0, &plan.buffers[*dst], 0, *bytes);
                    }
                    Step::Dispatch { .. } => {
                        // Consecutive dispatches share one pass; copies need the encoder itself.
                        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                            label: Some("vitrine kernels"),
                            timestamp_writes: None,
                        });
                        let mut next = Some(step);
                        while let Some(Step::Dispatch { kernel, bind_group, grid }) = next {
                            let pipeline = self
                                .pipelines
                                .built(*kernel)
                                .ok_or_else(|| Error::GpuFailed { reason: format!("{kernel:?} was never built") })?;
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
            let bytes = plan.output_shape.len() as u64 * 4;
            encoder.copy_buffer_to_buffer(&plan.buffers[plan.output], 0, &plan.staging, 0, bytes);
            let index = ctx.queue.submit([encoder.finish()]);
            plan.staging.slice(..bytes.max(4)).map_async(wgpu::MapMode::Read, move |result| sender.send(result));
            Ok(index)
        });
        let submission = submitted.await?;

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
            let bytes = plan.output_shape.len() * 4;
            let view = plan
                .staging
                .slice(..)
                .get_mapped_range()
                .map_err(|e| Error::GpuFailed { reason: format!("reading the result back: {e}") })?;
            bytemuck::pod_collect_to_vec::<u8, f32>(&view[..bytes])
        };
        plan.staging.unmap();
        Tensor::from_vec(plan.output_shape, data)
    }
}

/// The adapter wgpu would pick, without compiling anything: for reports such as `vitrine info`.
pub async fn probe() -> Result<AdapterSummary> {
    Ok(Context::new().await?.summary)
}

/// The kernels a graph's ops run on, so their pipelines are built before the first image.
fn kernels_used(graph: &Graph) -> Vec<Kernel> {
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
