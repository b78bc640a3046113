//! The adapter, the device, its limits, and how GPU errors become `Error`s instead of panics.

use std::future::Future;
use std::sync::{Arc, Mutex};

use super::AdapterSummary;
use crate::error::{Error, Result};

/// Errors the device reports outside any scope, and whether it was lost. Shared with wgpu's callbacks.
#[derive(Default)]
pub(crate) struct Health {
    lost: Mutex<Option<String>>,
    uncaptured: Mutex<Option<String>>,
}

impl Health {
    fn set(slot: &Mutex<Option<String>>, message: String) {
        if let Ok(mut slot) = slot.lock() {
            slot.get_or_insert(message);
        }
    }

    pub(crate) fn mark_lost(&self, message: String) {
        Self::set(&self.lost, message);
    }

    pub(crate) fn is_lost(&self) -> bool {
        self.lost.lock().map_or(true, |l| l.is_some())
    }

    /// Fails if the device was lost (for good) or reported an error since the last check (which is then cleared).
    pub(crate) fn check(&self) -> Result<()> {
        if let Some(reason) = self.lost.lock().ok().and_then(|l| l.clone()) {
            return Err(Error::GpuFailed { reason: format!("the GPU device was lost: {reason}") });
        }
        if let Some(reason) = self.uncaptured.lock().ok().and_then(|mut u| u.take()) {
            return Err(Error::GpuFailed { reason });
        }
        Ok(())
    }
}

pub(crate) struct Context {
    /// Kept so a surface (a page's canvas) can be made on the same instance as the device.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code, reason = "read by the browser's canvas code only"))]
    pub(crate) instance: wgpu::Instance,
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code, reason = "read by the browser's canvas code only"))]
    pub(crate) adapter: wgpu::Adapter,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) limits: wgpu::Limits,
    pub(crate) summary: AdapterSummary,
    pub(crate) health: Arc<Health>,
    /// The optional features the device was created with (those of `WANTED_FEATURES` the adapter offers).
    pub(crate) features: wgpu::Features,
}

/// Features used where the adapter has them and done without elsewhere: f16 activations, per-pass GPU timings.
const WANTED_FEATURES: wgpu::Features = wgpu::Features::SHADER_F16.union(wgpu::Features::TIMESTAMP_QUERY);

impl Context {
    pub(crate) async fn new() -> Result<Self> {
        // From the environment, so WGPU_BACKEND, WGPU_ADAPTER_NAME and the Vulkan loader's variables are honoured.
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let options = wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::from_env().unwrap_or(wgpu::PowerPreference::HighPerformance),
            force_fallback_adapter: false,
            compatible_surface: None,
            apply_limit_buckets: false,
        };
        let adapter =
            instance.request_adapter(&options).await.map_err(|e| Error::GpuUnavailable { reason: no_adapter(e) })?;
        let info = adapter.get_info();
        let adapter_limits = adapter.limits();
        // Ask for what the adapter offers: the default limits would cap storage bindings at 128 MiB (and buffers at
        // 256 MiB) even where the hardware allows more, and every value taken from the adapter itself is valid.
        let required_limits = adapter_limits.clone();
        let features = adapter.features() & WANTED_FEATURES;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("vitrine"),
                required_features: features,
                required_limits,
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| Error::GpuUnavailable {
                reason: format!("the GPU adapter {} refused a device ({e})", info.name),
            })?;

        let health = Arc::new(Health::default());
        let on_error = Arc::clone(&health);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| Health::set(&on_error.uncaptured, e.to_string())));
        let on_lost = Arc::clone(&health);
        device.set_device_lost_callback(move |reason, message| on_lost.mark_lost(format!("{reason:?}: {message}")));

        let limits = device.limits();
        let summary = AdapterSummary {
            // Browsers may withhold the adapter's description (Chromium does for SwiftShader).
            name: if info.name.is_empty() { "unnamed".into() } else { info.name.clone() },
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            shader_f16: features.contains(wgpu::Features::SHADER_F16),
            software: info.device_type == wgpu::DeviceType::Cpu,
            max_storage_binding: storage_limit(&limits),
        };
        Ok(Context { instance, adapter, device, queue, limits, summary, health, features })
    }

    /// Runs `f` inside validation and out-of-memory error scopes; an error in either becomes `GpuFailed`.
    pub(crate) fn scoped<T, F: FnOnce() -> Result<T>>(
        &self,
        what: &str,
        f: F,
    ) -> impl Future<Output = Result<T>> + use<T, F> {
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let value = f();
        let memory = memory.pop();
        let validation = validation.pop();
        let what = what.to_string();
        async move {
            let errors = [memory.await, validation.await];
            if let Some(e) = errors.into_iter().flatten().next() {
                return Err(Error::GpuFailed { reason: format!("{what}: {e}") });
            }
            value
        }
    }

    /// The largest buffer a shader may bind, and so the largest any one tensor or weight buffer may be.
    pub(crate) fn max_buffer(&self) -> u64 {
        storage_limit(&self.limits)
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn no_adapter(e: wgpu::RequestAdapterError) -> String {
    format!("no GPU adapter ({e})")
}

/// wgpu lists every native backend it was built without; in a browser only WebGPU matters.
#[cfg(target_arch = "wasm32")]
fn no_adapter(_: wgpu::RequestAdapterError) -> String {
    "this browser offers no WebGPU adapter (WebGPU is unsupported or turned off here)".into()
}

fn storage_limit(limits: &wgpu::Limits) -> u64 {
    limits.max_storage_buffer_binding_size.min(limits.max_buffer_size)
}
