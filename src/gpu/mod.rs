//! The GPU executor (wgpu). Placeholder: the interface the rest of the crate uses.

use crate::error::{Error, Result};
use crate::graph::{Graph, Tensor};
use crate::style::StyleParams;

/// What `vitrine info` reports about the adapter.
#[derive(Clone, Debug)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub shader_f16: bool,
    pub max_storage_binding: u64,
}

pub struct GpuExecutor {
    summary: AdapterSummary,
}

impl GpuExecutor {
    pub async fn new(_graph: &Graph) -> Result<Self> {
        Err(Error::GpuUnavailable { reason: "not built yet".into() })
    }

    pub fn summary(&self) -> &AdapterSummary {
        &self.summary
    }

    pub async fn run(&mut self, _graph: &Graph, _input: &Tensor, _params: &StyleParams) -> Result<Tensor> {
        Err(Error::GpuUnavailable { reason: "not built yet".into() })
    }
}
