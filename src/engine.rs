//! The executor a `Styler` runs on, chosen from a `Backend` once, and recovery from what a GPU can run into,
//! written once for every kind of run (whole images, tiled plans, the style predictor).

use crate::cpu;
use crate::error::{Error, Result};
#[cfg(feature = "gpu")]
use crate::gpu::GpuExecutor;
use crate::graph::{Graph, Tensor};
use crate::style::StyleParams;
use crate::tiling::ExecutorKind;
use crate::Backend;

/// What runs a graph: the CPU executor (`cpu::run`) or the GPU executor on one device.
pub(crate) enum Executor {
    Cpu,
    #[cfg(feature = "gpu")]
    Gpu(Box<GpuExecutor>),
}

impl Executor {
    /// A GPU executor for `graph` on any adapter, software ones included (tiles of a streamed run use one).
    #[cfg(feature = "gpu")]
    pub(crate) async fn gpu_for(graph: &Graph) -> Result<Executor> {
        Ok(Executor::Gpu(Box::new(GpuExecutor::new(graph).await?)))
    }

    pub(crate) fn kind(&self) -> ExecutorKind {
        match self {
            Executor::Cpu => ExecutorKind::Cpu,
            #[cfg(feature = "gpu")]
            Executor::Gpu(_) => ExecutorKind::Gpu,
        }
    }

    /// Whether its device is gone for good (the CPU never is).
    pub(crate) fn is_lost(&self) -> bool {
        match self {
            Executor::Cpu => false,
            #[cfg(feature = "gpu")]
            Executor::Gpu(gpu) => gpu.is_lost(),
        }
    }

    /// The largest buffer one tensor may take: the GPU's binding limit, unbounded on the CPU.
    pub(crate) fn buffer_limit(&self) -> u64 {
        match self {
            Executor::Cpu => u64::MAX,
            #[cfg(feature = "gpu")]
            Executor::Gpu(gpu) => gpu.buffer_limit(),
        }
    }

    #[cfg(feature = "gpu")]
    pub(crate) fn gpu(&self) -> Option<&GpuExecutor> {
        match self {
            Executor::Gpu(gpu) => Some(gpu),
            Executor::Cpu => None,
        }
    }

    #[cfg(feature = "gpu")]
    pub(crate) fn gpu_mut(&mut self) -> Option<&mut GpuExecutor> {
        match self {
            Executor::Gpu(gpu) => Some(gpu),
            Executor::Cpu => None,
        }
    }

    /// Runs the whole graph on a planar input.
    pub(crate) async fn run(&mut self, graph: &Graph, input: &Tensor, params: &StyleParams) -> Result<Tensor> {
        match self {
            Executor::Cpu => cpu::run(graph, input.clone(), params),
            #[cfg(feature = "gpu")]
            Executor::Gpu(gpu) => gpu.run(graph, input, params).await,
        }
    }

    /// Runs the graph up to, not including, node `upto` and returns that node's input (a statistics pass).
    pub(crate) async fn run_prefix(
        &mut self,
        graph: &Graph,
        upto: usize,
        input: &Tensor,
        params: &StyleParams,
    ) -> Result<Tensor> {
        match self {
            Executor::Cpu => cpu::run(&graph.prefix(upto)?, input.clone(), params),
            #[cfg(feature = "gpu")]
            Executor::Gpu(gpu) => gpu.run_prefix(graph, upto, input, params).await,
        }
    }
}

/// A backend opened: its executor, and what it takes to keep a run going when the GPU fails under it.
pub(crate) struct Engine {
    backend: Backend,
    executor: Executor,
    /// Why `Backend::Auto` settled on the CPU, if it did.
    fallback_reason: Option<String>,
    /// How many times the backend was opened again after its device was lost.
    reopens: u32,
}

impl Engine {
    /// The executor for `backend`: under `Backend::Auto` a hardware GPU if one can be had (software adapters run
    /// the shaders on the CPU more slowly than the CPU executor), else the CPU, with the reason kept.
    #[cfg_attr(not(feature = "gpu"), allow(unused_variables))]
    pub(crate) async fn open(graph: &Graph, backend: Backend) -> Result<Engine> {
        let (executor, fallback_reason) = match backend {
            Backend::Cpu => (Executor::Cpu, None),
            #[cfg(feature = "gpu")]
            Backend::Gpu => (Executor::gpu_for(graph).await?, None),
            #[cfg(not(feature = "gpu"))]
            Backend::Gpu => {
                return Err(Error::GpuUnavailable { reason: "this build of vitrine has no GPU support".into() })
            }
            #[cfg(feature = "gpu")]
            Backend::Auto => match GpuExecutor::new_hardware(graph).await {
                Ok(gpu) => (Executor::Gpu(Box::new(gpu)), None),
                Err(Error::GpuUnavailable { reason }) => (Executor::Cpu, Some(reason)),
                Err(e) => (Executor::Cpu, Some(e.to_string())),
            },
            #[cfg(not(feature = "gpu"))]
            Backend::Auto => (Executor::Cpu, Some("this build of vitrine has no GPU support".into())),
        };
        Ok(Engine { backend, executor, fallback_reason, reopens: 0 })
    }

    pub(crate) fn executor(&self) -> &Executor {
        &self.executor
    }

    #[cfg(feature = "gpu")]
    pub(crate) fn executor_mut(&mut self) -> &mut Executor {
        &mut self.executor
    }

    pub(crate) fn fallback_reason(&self) -> Option<&str> {
        self.fallback_reason.as_deref()
    }

    pub(crate) fn reopens(&self) -> u32 {
        self.reopens
    }

    /// Runs `job` on the executor, recovering from what a GPU can run into, so the caller loses nothing: a lost
    /// device never comes back, but a new one may be had (after a driver reset, say), so the backend is opened
    /// again and the job run once more; a job too large for the GPU's buffers runs on the CPU under
    /// `Backend::Auto`. `job` must be repeatable: it is given the executor to run on each time.
    pub(crate) async fn run<T>(
        &mut self,
        graph: &Graph,
        mut job: impl AsyncFnMut(&mut Executor) -> Result<T>,
    ) -> Result<T> {
        match job(&mut self.executor).await {
            Err(Error::GpuFailed { .. }) if self.executor.is_lost() => {
                let reopens = self.reopens + 1;
                *self = Engine { reopens, ..Engine::open(graph, self.backend).await? };
                job(&mut self.executor).await
            }
            Err(Error::GpuBufferLimit { .. }) if self.backend == Backend::Auto => job(&mut Executor::Cpu).await,
            result => result,
        }
    }
}
