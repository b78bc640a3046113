//! The GPU plan's cost, read off the recorded plan itself (no device needed): the 26-style network at 1024x1024
//! must stay within its budget of dispatches, memory traffic and parallelism. A kernel change that costs more
//! fails here, in CI, before any GPU sees it.

#![cfg(feature = "gpu")]

use vitrine::gpu::{plan_cost, KernelSet, PlanCost, Precision, GIB};
use vitrine::Model;

fn cost(kernels: KernelSet, precision: Precision) -> PlanCost {
    let model = Model::builtin().unwrap_or_else(|e| panic!("the built-in model does not load: {e}"));
    plan_cost(&model.graph, 1024, 1024, kernels, precision).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_baseline_plan_is_what_it_was() {
    let baseline = cost(KernelSet::Baseline, Precision::F32);
    println!("{}", baseline.render());
    // One kernel per op: 18 convs, 18 norms in two passes each, 11 ReLUs, 6 adds, 2 upsamplings, 1 sigmoid.
    assert_eq!(baseline.dispatches(), 74);
    // The norm statistics: one workgroup per channel (32 for most norms, 3 for the last).
    assert_eq!(baseline.min_workgroups(), 3);
    // 39 kFLOP per output pixel.
    let gflop = baseline.flops() as f64 / 1e9;
    assert!((35.0..45.0).contains(&gflop), "{gflop} GFLOP");
}

#[test]
fn the_fused_plan_stays_within_its_budget() {
    let baseline = cost(KernelSet::Baseline, Precision::F32);
    for (precision, budget) in [(Precision::F32, 1.0), (Precision::F16, 0.55)] {
        let fused = cost(KernelSet::Fused, precision);
        println!("{}", fused.render());
        println!("{}", fused.to_json());
        assert_eq!(fused.kernels, "fused");
        assert!(fused.dispatches() <= 40, "{} dispatches", fused.dispatches());
        let gib = fused.bytes() as f64 / GIB;
        assert!(gib <= budget, "{} activations: {gib:.3} GiB moved, over {budget} GiB", precision.name());
        assert!(
            fused.min_workgroups() >= 256,
            "a whole-tensor dispatch has only {} workgroups",
            fused.min_workgroups()
        );
        assert_eq!(fused.passes, 1);
        // The same arithmetic (the convs'; the passes the fused plan no longer has did the rest).
        let ratio = fused.flops() as f64 / baseline.flops() as f64;
        assert!((0.98..=1.0).contains(&ratio), "fused {} against baseline {} FLOP", fused.flops(), baseline.flops());
        let json = fused.to_json();
        for key in ["\"dispatches\":", "\"bytes\":", "\"min_workgroups\":", "\"precision\":\""] {
            assert!(json.contains(key), "{key} missing from {json}");
        }
    }
}
