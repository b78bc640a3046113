//! vitrine's side of the native benchmark: times the network (planar f32 in, planar f32 out) and the whole
//! `Styler::stylize` call (RGBA8 in, RGBA8 out) on one backend and one image size, and prints one JSON line.
//!
//! `benches/native.py` prepares the photo, runs onnxruntime on the same input and runs this binary in the same
//! invocation; see benches/BENCHMARKS.md. By hand:
//!
//!     cargo bench --bench native -- --input DIR --size 512 [--backend cpu|gpu] [--runs 10] [--warmup 2]
//!         [--network multistyle26|arbitrary_transform|arbitrary_predict] [--style 19] [--model FILE]
//!         [--no-stylize] [--output FILE] [--profile] [--serve]
//!         [--kernels fused|baseline] [--precision f32|f16] [--compare-kernels]
//!
//! DIR holds `photo_<size>.f32` (planar RGB, 0..1, little-endian) and `photo_<size>.rgba` (RGBA8), both
//! `size x size`, and for the arbitrary-style transformer `vector.f32` (its style vector). `--output` writes the
//! network's last output (planar f32) for the driver's agreement check.
//! `--serve` takes its orders on standard input instead, one a line, so a driver can alternate vitrine's runs with
//! the peer's (both then see the same machine, even one that other work shares): `network` or `stylize` runs one
//! and prints its milliseconds; `done` writes `--output` and prints the summary line.
//! `--kernels` and `--precision` choose the GPU executor's kernels and activation storage (default: fused, and f16
//! where the adapter has shader-f16). `--compare-kernels` (GPU only) then times the fused and the baseline kernels
//! alternately in this one process, same input, same device, and prints one more JSON line with both medians and
//! their ratio: the figure for kernels no GPU here can time in absolute terms.
//! `--profile` also prints, on stderr, where the CPU path's time goes: the median run's time per op kind and per
//! node, from the same kernels walked node by node.

use std::path::PathBuf;
use std::time::Instant;

use vitrine::{cpu, gpu, Backend, Background, Model, Options, Shape, StyleParams, StyleSpec, Styler, Tensor};

struct Args {
    input: PathBuf,
    size: usize,
    backend: String,
    runs: usize,
    warmup: usize,
    style: usize,
    network: String,
    model: Option<PathBuf>,
    stylize: bool,
    output: Option<PathBuf>,
    profile: bool,
    serve: bool,
    kernels: gpu::KernelSet,
    precision: Option<gpu::Precision>,
    compare_kernels: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        input: PathBuf::from("target/bench"),
        size: 512,
        backend: "cpu".into(),
        runs: 10,
        warmup: 2,
        style: 19,
        network: "multistyle26".into(),
        model: None,
        stylize: true,
        output: None,
        profile: false,
        serve: false,
        kernels: gpu::KernelSet::Fused,
        precision: None,
        compare_kernels: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--input" => args.input = value()?.into(),
            "--size" => args.size = value()?.parse().map_err(|e| format!("--size: {e}"))?,
            "--backend" => args.backend = value()?,
            "--runs" => args.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--warmup" => args.warmup = value()?.parse().map_err(|e| format!("--warmup: {e}"))?,
            "--style" => args.style = value()?.parse().map_err(|e| format!("--style: {e}"))?,
            "--model" => args.model = Some(value()?.into()),
            "--network" => args.network = value()?,
            "--output" => args.output = Some(value()?.into()),
            "--no-stylize" => args.stylize = false,
            "--profile" => args.profile = true,
            "--serve" => args.serve = true,
            "--kernels" => {
                args.kernels = match value()?.as_str() {
                    "fused" => gpu::KernelSet::Fused,
                    "baseline" => gpu::KernelSet::Baseline,
                    other => return Err(format!("--kernels is fused or baseline, not {other}")),
                }
            }
            "--precision" => {
                args.precision = Some(match value()?.as_str() {
                    "f32" => gpu::Precision::F32,
                    "f16" => gpu::Precision::F16,
                    other => return Err(format!("--precision is f32 or f16, not {other}")),
                })
            }
            "--compare-kernels" => args.compare_kernels = true,
            // `cargo bench` passes this to every bench target.
            "--bench" => {}
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    Ok(args)
}

/// NaN for no times (printed as null).
fn median(times: &[f64]) -> f64 {
    if times.is_empty() {
        return f64::NAN;
    }
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn read(path: &PathBuf) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e} (benches/native.py writes it)", path.display()))
}

fn json_list(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:.3}")).collect();
    format!("[{}]", items.join(","))
}

fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "null".into()
    }
}

fn json_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn main() {
    if let Err(message) = run() {
        eprintln!("error: {message}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let model = match (&args.model, args.network.as_str()) {
        (Some(path), _) => Model::from_bytes(&read(path)?),
        (None, "multistyle26") => Model::builtin(),
        (None, "arbitrary_transform") => Model::builtin_arbitrary(),
        (None, "arbitrary_predict") => Model::builtin_predictor(),
        (None, other) => {
            return Err(format!("--network is multistyle26, arbitrary_transform or arbitrary_predict, not {other}"))
        }
    }
    .map_err(|e| e.to_string())?;
    let s = args.size;
    let planar = read(&args.input.join(format!("photo_{s}.f32")))?;
    let rgba = read(&args.input.join(format!("photo_{s}.rgba")))?;
    if planar.len() != 3 * s * s * 4 || rgba.len() != 4 * s * s {
        return Err(format!("the input files are not {s}x{s}"));
    }
    let floats = |bytes: &[u8]| -> Vec<f32> {
        bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
    };
    let input = Tensor::from_vec(Shape::new(3, s, s), floats(&planar)).map_err(|e| e.to_string())?;
    // The style each network takes: a preset, a style vector (the transformer), or none (the predictor).
    let (params, style) = match args.network.as_str() {
        "arbitrary_transform" => {
            let vector = floats(&read(&args.input.join("vector.f32"))?);
            (StyleParams::project(&model.graph, &vector), Some(StyleSpec::Vector(vector)))
        }
        "arbitrary_predict" => (StyleParams(Vec::new()), None),
        _ => {
            let weights = StyleSpec::Preset(args.style).resolve(model.style_count).map_err(|e| e.to_string())?;
            (StyleParams::mix(&model.graph, &weights), Some(StyleSpec::Preset(args.style)))
        }
    };
    let graph = model.graph.clone();

    let backend = match args.backend.as_str() {
        "cpu" => Backend::Cpu,
        "gpu" => Backend::Gpu,
        other => return Err(format!("--backend is cpu or gpu, not {other}")),
    };
    // The network alone, on its own executor. The input copy the CPU executor consumes is made untimed.
    let created = Instant::now();
    let mut gpu = match backend {
        Backend::Gpu => Some(pollster::block_on(gpu::GpuExecutor::new(&model.graph)).map_err(|e| e.to_string())?),
        _ => None,
    };
    let create_ms = created.elapsed().as_secs_f64() * 1e3;
    if let Some(gpu) = gpu.as_mut() {
        gpu.use_kernels(args.kernels);
        if let Some(precision) = args.precision {
            gpu.use_precision(precision).map_err(|e| e.to_string())?;
        }
    }
    let (device, software) = match &gpu {
        Some(gpu) => (format!("{} ({})", gpu.summary().name, gpu.summary().backend), gpu.summary().software),
        None => (format!("vitrine CPU, {} threads", cpu::worker_count()), false),
    };
    let mut network = || -> Result<(f64, Tensor), String> {
        let (elapsed, out) = match gpu.as_mut() {
            Some(gpu) => {
                let started = Instant::now();
                let out = pollster::block_on(gpu.run(&graph, &input, &params)).map_err(|e| e.to_string())?;
                (started.elapsed(), out)
            }
            None => {
                let copy = input.clone();
                let started = Instant::now();
                let out = cpu::run(&graph, copy, &params).map_err(|e| e.to_string())?;
                (started.elapsed(), out)
            }
        };
        Ok((elapsed.as_secs_f64() * 1e3, out))
    };
    let mut last = None;
    if args.serve {
        let mut styler = match (&style, args.stylize) {
            (Some(_), true) => Some(Styler::new(model.clone(), backend).map_err(|e| e.to_string())?),
            _ => None,
        };
        // onnxruntime paints whole frames, so the comparison does too (no backdrop analysis).
        let options = Options {
            style: style.clone().unwrap_or(StyleSpec::Preset(0)),
            background: Background::Paint,
            ..Options::default()
        };
        let (mut network_ms, mut stylize_ms) = (Vec::new(), Vec::new());
        println!("ready");
        for line in std::io::stdin().lines() {
            let line = line.map_err(|e| e.to_string())?;
            match line.trim() {
                "network" => {
                    let (ms, out) = network()?;
                    last = Some(out);
                    network_ms.push(ms);
                    println!("{ms:.3}");
                }
                "stylize" => {
                    let styler = styler.as_mut().ok_or("no stylize call for this network")?;
                    let started = Instant::now();
                    styler.stylize(s as u32, s as u32, &rgba, &options).map_err(|e| e.to_string())?;
                    let ms = started.elapsed().as_secs_f64() * 1e3;
                    stylize_ms.push(ms);
                    println!("{ms:.3}");
                }
                "done" => break,
                other => return Err(format!("unknown order {other}")),
            }
        }
        write_output(&args.output, &last)?;
        summary(&args, &device, software, create_ms, &network_ms, &stylize_ms);
        return Ok(());
    }
    for _ in 0..args.warmup {
        network()?;
    }
    let mut network_ms = Vec::with_capacity(args.runs);
    for _ in 0..args.runs {
        let (ms, out) = network()?;
        network_ms.push(ms);
        last = Some(out);
    }
    write_output(&args.output, &last)?;
    if let (true, Some(gpu)) = (args.compare_kernels, gpu.as_mut()) {
        compare_kernels(&args, gpu, &graph, &input, &params)?;
    }
    if let (true, Some(gpu)) = (args.profile, gpu.as_mut()) {
        profile_gpu(gpu, &graph, &input, &params, args.runs)?;
    }

    // The whole call a caller makes: checks, style mix, prepare, network, finish.
    drop(gpu);
    if args.profile {
        profile(&graph, &input, &params, args.runs)?;
    }
    let mut stylize_ms = Vec::new();
    if let (true, Some(style)) = (args.stylize, style) {
        let mut styler = Styler::new(model, backend).map_err(|e| e.to_string())?;
        let options = Options { style, background: Background::Paint, ..Options::default() };
        let (w, h) = (s as u32, s as u32);
        styler.stylize(w, h, &rgba, &options).map_err(|e| e.to_string())?;
        for _ in 0..args.runs {
            let started = Instant::now();
            styler.stylize(w, h, &rgba, &options).map_err(|e| e.to_string())?;
            stylize_ms.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }

    summary(&args, &device, software, create_ms, &network_ms, &stylize_ms);
    Ok(())
}

/// The fused and the baseline kernels timed alternately (which goes first alternates too) on one executor, after a
/// warm-up of each; prints one JSON line with both medians, their ratio (baseline over fused: above 1, the fused
/// kernels are faster) and both plans' cost totals.
fn compare_kernels(
    args: &Args,
    gpu: &mut gpu::GpuExecutor,
    graph: &vitrine::graph::Graph,
    input: &Tensor,
    params: &StyleParams,
) -> Result<(), String> {
    use gpu::KernelSet::{Baseline, Fused};
    let mut times = [Vec::with_capacity(args.runs), Vec::with_capacity(args.runs)];
    // The executor keeps a plan per kernel set, so switching costs nothing after the first (warm-up) runs.
    let time = |gpu: &mut gpu::GpuExecutor, kernels| -> Result<f64, String> {
        gpu.use_kernels(kernels);
        let started = Instant::now();
        pollster::block_on(gpu.run(graph, input, params)).map_err(|e| e.to_string())?;
        Ok(started.elapsed().as_secs_f64() * 1e3)
    };
    for round in 0..args.warmup.max(1) + args.runs {
        let order = if round % 2 == 0 { [Fused, Baseline] } else { [Baseline, Fused] };
        for kernels in order {
            let ms = time(gpu, kernels)?;
            if round >= args.warmup.max(1) {
                times[usize::from(kernels == Baseline)].push(ms);
            }
        }
    }
    let (fused, baseline) = (median(&times[0]), median(&times[1]));
    let precision = gpu.precision();
    let cost = |kernels| {
        gpu::plan_cost(graph, input.shape.height, input.shape.width, kernels, precision).map_err(|e| e.to_string())
    };
    let (fused_cost, baseline_cost) = (cost(Fused)?, cost(Baseline)?);
    println!(
        "{{\"compare\":\"kernels\",\"size\":{},\"precision\":\"{}\",\"fused_ms\":{},\"fused_median_ms\":{},\
         \"baseline_ms\":{},\"baseline_median_ms\":{},\"ratio\":{},\"fused_dispatches\":{},\"baseline_dispatches\":{},\
         \"fused_bytes\":{},\"baseline_bytes\":{}}}",
        args.size,
        precision.name(),
        json_list(&times[0]),
        json_number(fused),
        json_list(&times[1]),
        json_number(baseline),
        json_number(baseline / fused),
        fused_cost.dispatches(),
        baseline_cost.dispatches(),
        fused_cost.bytes(),
        baseline_cost.bytes(),
    );
    Ok(())
}

/// Where the GPU's time goes: each dispatch's GPU time (timestamp queries, one pass per dispatch), medians of
/// `runs` runs, on stderr.
fn profile_gpu(
    gpu: &mut gpu::GpuExecutor,
    graph: &vitrine::graph::Graph,
    input: &Tensor,
    params: &StyleParams,
    runs: usize,
) -> Result<(), String> {
    let mut per_dispatch: Vec<(String, String, Vec<f64>)> = Vec::new();
    for _ in 0..runs {
        let Some(times) = pollster::block_on(gpu.profile(graph, input, params)).map_err(|e| e.to_string())? else {
            eprintln!("GPU profile: {} offers no timestamp queries", gpu.summary().name);
            return Ok(());
        };
        if per_dispatch.is_empty() {
            per_dispatch = times.iter().map(|(n, k, _)| (n.clone(), k.clone(), Vec::new())).collect();
        }
        for (slot, (_, _, ms)) in per_dispatch.iter_mut().zip(times) {
            slot.2.push(ms);
        }
    }
    let medians: Vec<f64> = per_dispatch.iter().map(|(_, _, t)| median(t)).collect();
    let total: f64 = medians.iter().sum();
    eprintln!(
        "GPU path, {}x{}, {} kernels, {} activations, {}: {total:.2} ms in {} dispatches (medians of {runs} runs)",
        input.shape.width,
        input.shape.height,
        gpu.kernels().name(),
        gpu.precision().name(),
        gpu.summary().name,
        medians.len()
    );
    for ((node, kernel, _), ms) in per_dispatch.iter().zip(&medians) {
        eprintln!("    {node:<28} {kernel:<20} {ms:>9.3} ms {:>5.1}%", 100.0 * ms / total.max(1e-9));
    }
    Ok(())
}

/// Times each node of the CPU path over `runs` walks and prints the median per node and per op kind.
fn profile(graph: &vitrine::graph::Graph, input: &Tensor, params: &StyleParams, runs: usize) -> Result<(), String> {
    let mut per_node = vec![Vec::with_capacity(runs); graph.nodes().len()];
    for _ in 0..runs + 1 {
        let mut walk = cpu::Walk::new(graph, input.clone(), params).map_err(|e| e.to_string())?;
        for (index, times) in per_node.iter_mut().enumerate() {
            let started = Instant::now();
            walk.apply(index).map_err(|e| e.to_string())?;
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        walk.finish().map_err(|e| e.to_string())?;
    }
    // The first walk warms up; medians over the rest.
    let medians: Vec<f64> = per_node.iter().map(|t| median(&t[1..])).collect();
    let total: f64 = medians.iter().sum();
    let mut kinds: Vec<(&str, f64, usize)> = Vec::new();
    for (node, &ms) in graph.nodes().iter().zip(&medians) {
        match kinds.iter_mut().find(|(k, _, _)| *k == node.op.kind()) {
            Some(entry) => {
                entry.1 += ms;
                entry.2 += 1;
            }
            None => kinds.push((node.op.kind(), ms, 1)),
        }
    }
    kinds.sort_by(|a, b| b.1.total_cmp(&a.1));
    eprintln!(
        "CPU path, {}x{}, {} threads: {total:.1} ms in nodes (medians of {runs} walks)",
        input.shape.width,
        input.shape.height,
        cpu::worker_count()
    );
    for (kind, ms, count) in kinds {
        eprintln!("  {kind:<18} {count:>3} nodes {ms:>9.1} ms {:>5.1}%", 100.0 * ms / total);
    }
    for (node, ms) in graph.nodes().iter().zip(&medians) {
        eprintln!("    {:<28} {:<18} {ms:>9.2} ms", node.name, node.op.kind());
    }
    Ok(())
}

fn write_output(path: &Option<PathBuf>, last: &Option<Tensor>) -> Result<(), String> {
    if let (Some(path), Some(out)) = (path, last) {
        let bytes: Vec<u8> = out.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// The one JSON line the driver reads.
fn summary(args: &Args, device: &str, software: bool, create_ms: f64, network_ms: &[f64], stylize_ms: &[f64]) {
    let s = args.size;
    println!(
        "{{\"side\":\"vitrine\",\"backend\":{},\"device\":{},\"software\":{},\"threads\":{},\"size\":{s},\"create_ms\":{create_ms:.3},\
         \"kernels\":\"{}\",\"network_ms\":{},\"network_median_ms\":{},\"stylize_ms\":{},\"stylize_median_ms\":{}}}",
        json_string(&args.backend),
        json_string(device),
        software,
        cpu::worker_count(),
        args.kernels.name(),
        json_list(network_ms),
        json_number(median(network_ms)),
        json_list(stylize_ms),
        json_number(median(stylize_ms)),
    );
}
