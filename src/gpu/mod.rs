//! The GPU executor (wgpu): the same graph as the CPU executor, run as WGSL compute kernels.
//!
//! - `context`: adapter, device, limits, and GPU errors turned into `Error`s.
//! - `kernels`: the shaders, the workgroup size, and pipelines cached by kernel.
//! - `weights`: int8 conv weights packed four to a u32, uploaded once.
//! - `plan`: per input size, buffers (reused once a value is dead), bind groups and dispatch parameters.
//! - `uniforms`: the per-dispatch parameter structs shared with the shaders.
//!
//! A run writes the input and the style parameters, records every dispatch into one command encoder, submits once
//! and reads the output back.

mod context;
mod kernels;
mod oneshot;
mod plan;
mod uniforms;
mod weights;

pub use kernels::WORKGROUP_SIZE;

use context::Context;
use kernels::{Kernel, Pipelines};
use plan::{Plan, Step};
use weights::ConvBuffers;

use crate::error::{Error, Result};
use crate::graph::{Graph, Op, Tensor};
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

pub struct GpuExecutor {
    ctx: Context,
    pipelines: Pipelines,
    /// Per node: the conv's uploaded weights.
    convs: Vec<Option<ConvBuffers>>,
    style: wgpu::Buffer,
    style_len: usize,
    node_count: usize,
    plans: Vec<((usize, usize), Plan)>,
    clock: u64,
}

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
            let reason = format!("the GPU adapter ({}) is a software renderer, slower than the CPU path", ctx.summary.name);
            return Err(Error::GpuUnavailable { reason });
        }
        let limit = ctx.max_buffer();
        let style_bytes = graph.style_params_len.max(1) as u64 * 4;
        if style_bytes > limit {
            return Err(Error::GpuBufferLimit { needed: style_bytes, limit });
        }
        let mut pipelines = Pipelines::new();
        let setup = ctx.scoped("uploading the model", || {
            let mut convs = Vec::with_capacity(graph.nodes.len());
            for node in &graph.nodes {
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
            style_len: graph.style_params_len,
            node_count: graph.nodes.len(),
            plans: Vec::new(),
            clock: 0,
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

    /// Input sizes with a cached plan.
    pub fn plan_count(&self) -> usize {
        self.plans.len()
    }

    /// Runs `graph` (the one given to `new`) on a planar input; one submission per call.
    pub async fn run(&mut self, graph: &Graph, input: &Tensor, params: &StyleParams) -> Result<Tensor> {
        self.ctx.health.check()?;
        if graph.nodes.len() != self.node_count || params.0.len() != self.style_len {
            return Err(Error::graph("this GPU executor was built for a different graph"));
        }
        if input.shape.channels != graph.input_channels || input.data.len() != input.shape.len() {
            return Err(Error::graph(format!("the input {:?} does not fit this graph", input.shape)));
        }
        let key = (input.shape.height, input.shape.width);
        self.clock += 1;
        let slot = match self.plans.iter().position(|(k, _)| *k == key) {
            Some(slot) => slot,
            None => {
                let ctx = &self.ctx;
                let (pipelines, convs, style) = (&mut self.pipelines, &self.convs, &self.style);
                let built = ctx.scoped("preparing buffers for this image size", || {
                    Plan::build(ctx, pipelines, graph, convs, style, key.0, key.1)
                });
                let plan = built.await?;
                if self.plans.len() >= MAX_PLANS {
                    if let Some(oldest) = (0..self.plans.len()).min_by_key(|&i| self.plans[i].1.last_used) {
                        self.plans.swap_remove(oldest);
                    }
                }
                self.plans.push((key, plan));
                self.plans.len() - 1
            }
        };
        let plan = &mut self.plans[slot].1;
        plan.last_used = self.clock;
        let plan = &self.plans[slot].1;
        let ctx = &self.ctx;

        let (sender, receiver) = oneshot::channel();
        let submitted = ctx.scoped("running the network", || {
            ctx.queue.write_buffer(&plan.buffers[plan.input], 0, bytemuck::cast_slice(&input.data));
            if !params.0.is_empty() {
                ctx.queue.write_buffer(&self.style, 0, bytemuck::cast_slice(&params.0));
            }
            let mut encoder = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("vitrine run") });
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
    for node in &graph.nodes {
        let kernels: &[Kernel] = match &node.op {
            Op::Conv2d(conv) if weights::uses_oc4(conv) => &[Kernel::Conv2dOc4],
            Op::Conv2d(_) => &[Kernel::Conv2d],
            Op::InstanceNorm(_) => &[Kernel::NormStats, Kernel::NormApply],
            Op::Relu => &[Kernel::Relu],
            Op::Sigmoid => &[Kernel::Sigmoid],
            Op::Add => &[Kernel::Add],
            Op::UpsampleNearest { .. } => &[Kernel::Upsample],
            Op::Clip { .. } | Op::GlobalAvgPool | Op::ChannelAffine { .. } => &[],
        };
        for &kernel in kernels {
            if !used.contains(&kernel) {
                used.push(kernel);
            }
        }
    }
    used
}
