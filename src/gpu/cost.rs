//! What a plan costs, computed from the plan itself: the recording code that emits each dispatch states, from the
//! dispatch's own parameters and its kernel's access pattern, the global memory it reads and writes (input windows
//! with their halos, weights, partial statistics) and the arithmetic it does. No device is needed, so the figures
//! are the same on every machine: `vitrine info --plan`, the benchmark's reports and the tests that hold the plan to
//! its budget all read them here.

use std::fmt::Write as _;

use super::kernels::{Kernel, Precision, WORKGROUP_SIZE};

/// One step's traffic and arithmetic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cost {
    pub(crate) read: u64,
    pub(crate) written: u64,
    /// Multiply-adds count two.
    pub(crate) flops: u64,
    /// Whether the step reads or writes a whole activation tensor (the figure of parallelism applies to those).
    pub(crate) whole_tensor: bool,
}

/// One recorded step of a plan.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StepCost {
    /// The graph node it runs (or the plan's own step: "input", "output").
    pub(crate) node: String,
    /// The kernel's entry point, or "copy".
    pub(crate) kernel: String,
    /// Workgroups dispatched (0 for a copy).
    pub(crate) workgroups: u64,
    pub(crate) cost: Cost,
}

/// A whole plan's cost: per step, and the totals.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanCost {
    pub(crate) width: usize,
    pub(crate) height: usize,
    /// "fused" or "baseline".
    pub kernels: &'static str,
    pub(crate) precision: Precision,
    pub(crate) steps: Vec<StepCost>,
    /// Compute passes: runs of dispatches that a copy does not interrupt.
    pub passes: usize,
    /// Bytes written to the device before the run and read back after it.
    pub(crate) upload: u64,
    pub(crate) readback: u64,
}

pub const GIB: f64 = (1u64 << 30) as f64;

impl PlanCost {
    pub fn dispatches(&self) -> usize {
        self.steps.iter().filter(|s| s.workgroups > 0).count()
    }

    /// Bytes written to the device before a run (the input, and a weighted plan's weight planes).
    pub fn upload(&self) -> u64 {
        self.upload
    }

    /// Global memory traffic of every step, reads and writes.
    pub fn bytes(&self) -> u64 {
        self.steps.iter().map(|s| s.cost.read + s.cost.written).sum()
    }

    pub fn flops(&self) -> u64 {
        self.steps.iter().map(|s| s.cost.flops).sum()
    }

    /// The fewest workgroups of any dispatch that reads or writes a whole activation tensor.
    pub fn min_workgroups(&self) -> u64 {
        self.steps.iter().filter(|s| s.workgroups > 0 && s.cost.whole_tensor).map(|s| s.workgroups).min().unwrap_or(0)
    }

    /// Dispatches per kernel, in order of first use.
    pub(crate) fn kernel_counts(&self) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for step in self.steps.iter().filter(|s| s.workgroups > 0) {
            match counts.iter_mut().find(|(k, _)| *k == step.kernel) {
                Some((_, n)) => *n += 1,
                None => counts.push((step.kernel.clone(), 1)),
            }
        }
        counts
    }

    /// A table: one line per step, then the totals.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "plan at {}x{}: {} kernels, {} activations, {} invocations per workgroup",
            self.width,
            self.height,
            self.kernels,
            self.precision.name(),
            WORKGROUP_SIZE
        );
        let _ = writeln!(
            out,
            "{:<24} {:<18} {:>10} {:>11} {:>11} {:>9}",
            "node", "kernel", "workgroups", "read MiB", "write MiB", "GFLOP"
        );
        let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
        for s in &self.steps {
            let _ = writeln!(
                out,
                "{:<24} {:<18} {:>10} {:>11.2} {:>11.2} {:>9.3}",
                truncate(&s.node, 24),
                s.kernel,
                s.workgroups,
                mib(s.cost.read),
                mib(s.cost.written),
                s.flops_g()
            );
        }
        let counts: Vec<String> = self.kernel_counts().iter().map(|(k, n)| format!("{n} {k}")).collect();
        let _ = writeln!(
            out,
            "total: {} dispatches ({}) in {} compute pass(es); {:.3} GiB moved; {:.1} GFLOP; fewest workgroups on a \
             whole tensor {}; upload {:.1} MiB, readback {:.1} MiB",
            self.dispatches(),
            counts.join(", "),
            self.passes,
            self.bytes() as f64 / GIB,
            self.flops() as f64 / 1e9,
            self.min_workgroups(),
            mib(self.upload),
            mib(self.readback)
        );
        out
    }

    /// One JSON object: `totals` (`dispatches`, `passes`, `bytes`, `flops`, `min_workgroups`, `precision`, `upload`,
    /// `readback`) and `steps`.
    pub fn to_json(&self) -> String {
        let steps: Vec<String> = self
            .steps
            .iter()
            .map(|s| {
                format!(
                    "{{\"node\":{},\"kernel\":{},\"workgroups\":{},\"read\":{},\"written\":{},\"flops\":{}}}",
                    json_string(&s.node),
                    json_string(&s.kernel),
                    s.workgroups,
                    s.cost.read,
                    s.cost.written,
                    s.cost.flops
                )
            })
            .collect();
        format!(
            "{{\"width\":{},\"height\":{},\"kernels\":\"{}\",\"totals\":{{\"dispatches\":{},\"passes\":{},\"bytes\":{},\
             \"flops\":{},\"min_workgroups\":{},\"precision\":\"{}\",\"upload\":{},\"readback\":{}}},\"steps\":[{}]}}",
            self.width,
            self.height,
            self.kernels,
            self.dispatches(),
            self.passes,
            self.bytes(),
            self.flops(),
            self.min_workgroups(),
            self.precision.name(),
            self.upload,
            self.readback,
            steps.join(",")
        )
    }
}

impl StepCost {
    fn flops_g(&self) -> f64 {
        self.cost.flops as f64 / 1e9
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out + "\""
}

/// A kernel's name in reports.
pub(crate) fn kernel_name(kernel: Kernel) -> String {
    match kernel {
        Kernel::ConvTiled(tile, _) => format!("conv_tiled/{}", format!("{tile:?}").to_lowercase()),
        other => other.entry().to_string(),
    }
}
