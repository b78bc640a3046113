//! The GPU executor against the CPU oracle: every op on random odd shapes, then the whole built-in network.
//!
//! Runs on whatever adapter wgpu finds (lavapipe in CI: see the README). Without an adapter these tests fail, unless
//! `VITRINE_SKIP_GPU_TESTS=1` is set.

#![cfg(feature = "gpu")]

use std::time::Instant;

use vitrine::gpu::{plan_cost, weighted_plan_cost, GpuExecutor, KernelSet, Precision, GIB};
use vitrine::graph::{Conv2d, ConvWeights, Graph, InstanceNorm, Node, NormAffine, Op, PadMode, Padding, Shape, Tensor};
use vitrine::{Error, Model, StyleParams, StyleSpec};

mod common;
use common::Rng;

/// An executor storing f32 activations, held to the CPU within f32 rounding (the f16 path has tests of its own).
fn executor(graph: &Graph) -> Option<GpuExecutor> {
    let mut executor = any_executor(graph)?;
    if let Err(e) = executor.use_precision(Precision::F32) {
        panic!("{e}");
    }
    Some(executor)
}

fn any_executor(graph: &Graph) -> Option<GpuExecutor> {
    match pollster::block_on(GpuExecutor::new(graph)) {
        Ok(executor) => Some(executor),
        Err(e) if std::env::var("VITRINE_SKIP_GPU_TESTS").as_deref() == Ok("1") => {
            eprintln!("skipping GPU test (VITRINE_SKIP_GPU_TESTS=1): {e}");
            None
        }
        Err(e) => panic!("no GPU to test on: {e}; set VITRINE_SKIP_GPU_TESTS=1 to skip the GPU tests"),
    }
}

fn gpu_run(executor: &mut GpuExecutor, graph: &Graph, input: &Tensor, params: &StyleParams) -> Tensor {
    match pollster::block_on(executor.run(graph, input, params)) {
        Ok(out) => out,
        Err(e) => panic!("GPU run failed: {e}"),
    }
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.shape, b.shape);
    a.data.iter().zip(&b.data).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn max_abs(t: &Tensor) -> f32 {
    t.data.iter().map(|v| v.abs()).fold(0.0, f32::max)
}

/// PSNR for values in 0..1.
fn psnr(a: &Tensor, b: &Tensor) -> f64 {
    common::psnr_unit(&a.data, &b.data)
}

fn node(name: &str, op: Op, inputs: Vec<usize>, output: usize) -> Node {
    Node { name: name.into(), op, inputs, output }
}

fn graph(input_channels: usize, nodes: Vec<Node>, style_params_len: usize) -> Graph {
    let output = nodes.last().map_or(0, |n| n.output);
    Graph::new(input_channels, nodes, output, style_params_len).unwrap()
}

struct ConvCase {
    cin: usize,
    cout: usize,
    groups: usize,
    kernel: usize,
    stride: usize,
    pad: Padding,
    mode: PadMode,
    height: usize,
    width: usize,
    bias: bool,
}

/// The same padding on every side.
fn u(pad: usize) -> Padding {
    Padding::uniform(pad)
}

/// Top, left, bottom, right.
fn sides(top: usize, left: usize, bottom: usize, right: usize) -> Padding {
    Padding { top, left, bottom, right }
}

fn random_conv(rng: &mut Rng, c: &ConvCase) -> Conv2d {
    let in_per_group = c.cin / c.groups;
    let taps = in_per_group * c.kernel * c.kernel;
    // Scales that keep outputs near unit size, as a trained network's would be.
    let scale = 1.0 / (127.0 * (taps as f32).sqrt());
    Conv2d {
        weights: ConvWeights {
            out_channels: c.cout,
            in_per_group,
            kernel_h: c.kernel,
            kernel_w: c.kernel,
            quantised: (0..c.cout * taps).map(|_| rng.i8()).collect(),
            scales: (0..c.cout).map(|_| scale * (1.0 + 0.5 * rng.f32())).collect(),
            bias: c.bias.then(|| (0..c.cout).map(|_| rng.f32()).collect()),
        },
        stride: c.stride,
        pad: c.pad,
        pad_mode: c.mode,
        groups: c.groups,
    }
}

/// Compares one graph on both executors; returns the max abs difference and the output's largest magnitude.
fn compare(graph: &Graph, input: Tensor, params: &StyleParams) -> Option<(f32, f32)> {
    let mut gpu = executor(graph)?;
    let want = match vitrine::cpu::run(graph, input.clone(), params) {
        Ok(t) => t,
        Err(e) => panic!("CPU run failed: {e}"),
    };
    let got = gpu_run(&mut gpu, graph, &input, params);
    Some((max_abs_diff(&want, &got), max_abs(&want)))
}

#[test]
fn conv2d_matches_cpu() {
    use PadMode::{Reflect, Zero};
    #[rustfmt::skip]
    let cases = [
        // The network's first layer: 9x9 reflect, three channels in, 32 out (4-channel kernel).
        ConvCase { cin: 3, cout: 32, groups: 1, kernel: 9, stride: 1, pad: u(4), mode: Reflect, height: 13, width: 9, bias: true },
        // Stride 2 down to an odd channel count (plain kernel).
        ConvCase { cin: 32, cout: 5, groups: 1, kernel: 3, stride: 2, pad: u(1), mode: Reflect, height: 7, width: 5, bias: false },
        ConvCase { cin: 5, cout: 3, groups: 1, kernel: 1, stride: 1, pad: u(0), mode: Zero, height: 7, width: 5, bias: true },
        // Depthwise.
        ConvCase { cin: 32, cout: 32, groups: 32, kernel: 3, stride: 1, pad: u(1), mode: Zero, height: 13, width: 9, bias: true },
        // Grouped with 4-channel quads per group, stride 2, zero padding wider than one.
        ConvCase { cin: 32, cout: 32, groups: 4, kernel: 3, stride: 2, pad: u(2), mode: Zero, height: 9, width: 7, bias: false },
        ConvCase { cin: 3, cout: 3, groups: 1, kernel: 3, stride: 1, pad: u(1), mode: Reflect, height: 5, width: 3, bias: true },
        // Zero padding as wide as the image.
        ConvCase { cin: 5, cout: 8, groups: 1, kernel: 9, stride: 1, pad: u(4), mode: Zero, height: 7, width: 5, bias: false },
        ConvCase { cin: 32, cout: 32, groups: 1, kernel: 3, stride: 1, pad: u(1), mode: Reflect, height: 11, width: 13, bias: true },
    ];
    let mut rng = Rng(0x5eed_0001);
    for (i, case) in cases.iter().enumerate() {
        let conv = random_conv(&mut rng, case);
        let g = graph(case.cin, vec![node("conv", Op::Conv2d(conv), vec![0], 1)], 0);
        let input = rng.tensor(Shape::new(case.cin, case.height, case.width));
        let Some((diff, magnitude)) = compare(&g, input, &StyleParams(vec![])) else { return };
        // f32 sums in a different order: error grows with the magnitude of the result.
        let tolerance = 1e-5 * magnitude.max(1.0);
        println!("conv case {i}: max abs diff {diff:.2e} (output magnitude {magnitude:.2}, tolerance {tolerance:.1e})");
        assert!(diff <= tolerance, "conv case {i}: max abs diff {diff} > {tolerance}");
    }
}

/// Runs `graph` on the CPU, then on the GPU with its fast conv kernels and with every conv the plain kernel can take
/// on the plain kernel; returns both max abs differences and the output's largest magnitude.
fn compare_both_kernels(graph: &Graph, input: Tensor, params: &StyleParams) -> Option<(f32, f32, f32)> {
    let mut gpu = executor(graph)?;
    let want = match vitrine::cpu::run(graph, input.clone(), params) {
        Ok(t) => t,
        Err(e) => panic!("CPU run failed: {e}"),
    };
    let fast = gpu_run(&mut gpu, graph, &input, params);
    gpu.use_plain_convs(true);
    let plain = gpu_run(&mut gpu, graph, &input, params);
    Some((max_abs_diff(&want, &fast), max_abs_diff(&want, &plain), max_abs(&want)))
}

/// The convs of a MobileNetV2 feature extractor: depthwise (one input channel per group) with TF "SAME" padding,
/// grouped, and 1x1 convs with bias on planes and on `[C, 1, 1]` vectors.
#[test]
fn depthwise_grouped_and_vector_convs_match_cpu() {
    use PadMode::{Reflect, Zero};
    #[rustfmt::skip]
    let cases = [
        // Stride 2 pads one row and column at the bottom and right only; even and odd sizes.
        ("depthwise s2 (0,0,1,1) even", ConvCase { cin: 24, cout: 24, groups: 24, kernel: 3, stride: 2, pad: sides(0, 0, 1, 1), mode: Zero, height: 14, width: 18, bias: true }),
        ("depthwise s2 (0,0,1,1) odd", ConvCase { cin: 20, cout: 20, groups: 20, kernel: 3, stride: 2, pad: sides(0, 0, 1, 1), mode: Zero, height: 13, width: 11, bias: true }),
        ("depthwise s1 (1,1,1,1)", ConvCase { cin: 36, cout: 36, groups: 36, kernel: 3, stride: 1, pad: u(1), mode: Zero, height: 9, width: 23, bias: true }),
        // The last stages: many groups on a small plane.
        ("depthwise 960 groups", ConvCase { cin: 960, cout: 960, groups: 960, kernel: 3, stride: 1, pad: u(1), mode: Zero, height: 5, width: 6, bias: true }),
        ("depthwise 5x5 (2,1,1,3)", ConvCase { cin: 7, cout: 7, groups: 7, kernel: 5, stride: 1, pad: sides(2, 1, 1, 3), mode: Zero, height: 11, width: 17, bias: false }),
        ("depthwise reflect (0,0,1,1)", ConvCase { cin: 6, cout: 6, groups: 6, kernel: 3, stride: 2, pad: sides(0, 0, 1, 1), mode: Reflect, height: 9, width: 21, bias: false }),
        // One input channel, two output channels per group.
        ("depthwise multiplier 2", ConvCase { cin: 5, cout: 10, groups: 5, kernel: 3, stride: 1, pad: sides(1, 0, 1, 2), mode: Zero, height: 7, width: 13, bias: true }),
        // Two input channels per group, on the plain kernel and on the 4-channel one.
        ("grouped 2 in, 1 out", ConvCase { cin: 12, cout: 6, groups: 6, kernel: 3, stride: 1, pad: sides(1, 1, 0, 2), mode: Zero, height: 10, width: 9, bias: true }),
        ("grouped 2 in, 4 out", ConvCase { cin: 16, cout: 32, groups: 8, kernel: 3, stride: 2, pad: sides(0, 0, 1, 1), mode: Zero, height: 11, width: 12, bias: false }),
        ("1x1 expand 24 -> 144", ConvCase { cin: 24, cout: 144, groups: 1, kernel: 1, stride: 1, pad: u(0), mode: Zero, height: 7, width: 9, bias: true }),
        // The bottleneck on the pooled [C, 1, 1] vector.
        ("1x1 vector 1280 -> 100", ConvCase { cin: 1280, cout: 100, groups: 1, kernel: 1, stride: 1, pad: u(0), mode: Zero, height: 1, width: 1, bias: true }),
        ("1x1 vector 96 -> 7", ConvCase { cin: 96, cout: 7, groups: 1, kernel: 1, stride: 1, pad: u(0), mode: Zero, height: 1, width: 1, bias: true }),
    ];
    let mut rng = Rng(0x5eed_0005);
    for (name, case) in &cases {
        let conv = random_conv(&mut rng, case);
        let g = graph(case.cin, vec![node("conv", Op::Conv2d(conv), vec![0], 1)], 0);
        let input = rng.tensor(Shape::new(case.cin, case.height, case.width));
        let Some((fast, plain, magnitude)) = compare_both_kernels(&g, input, &StyleParams(vec![])) else { return };
        let tolerance = 1e-5 * magnitude.max(1.0);
        println!("{name}: max abs diff {fast:.2e}, plain kernel {plain:.2e} (output magnitude {magnitude:.2}, tolerance {tolerance:.1e})");
        assert!(fast <= tolerance, "{name}: max abs diff {fast} > {tolerance}");
        assert!(plain <= tolerance, "{name}, plain kernel: max abs diff {plain} > {tolerance}");
    }
}

#[test]
fn clip_matches_cpu() {
    let mut rng = Rng(0x5eed_0006);
    let cases: Vec<(&str, Graph)> = vec![
        ("relu6", graph(5, vec![node("clip", Op::Clip { min: 0.0, max: 6.0 }, vec![0], 1)], 0)),
        // The input is read again after the clip, so the clip works on a copy.
        (
            "clip -0.25..0.5 then add",
            graph(
                5,
                vec![node("clip", Op::Clip { min: -0.25, max: 0.5 }, vec![0], 1), node("add", Op::Add, vec![1, 0], 2)],
                0,
            ),
        ),
    ];
    for (name, g) in cases {
        // -8..8: below, inside and above both ranges.
        let mut input = rng.tensor(Shape::new(5, 9, 7));
        input.data.iter_mut().for_each(|v| *v *= 8.0);
        let Some((diff, _)) = compare(&g, input, &StyleParams(vec![])) else { return };
        println!("{name}: max abs diff {diff:.2e} (tolerance 0)");
        assert_eq!(diff, 0.0, "{name}: max abs diff {diff}");
    }
}

#[test]
fn global_avg_pool_matches_cpu() {
    let mut rng = Rng(0x5eed_0007);
    // (channels, height, width, offset, spread): values are offset + spread * (-1..1).
    let cases = [
        (5, 37, 53, 0.0, 1.0),
        (3, 1, 1, 0.0, 1.0),
        (960, 7, 7, 0.0, 1.0),
        // After ReLU6: all positive, so no cancellation hides a drifting sum.
        (2, 768, 1024, 3.0, 3.0),
        // A large offset over a small spread, on a plane 250x the workgroup's block.
        (1, 1000, 1001, 100.0, 0.01),
    ];
    for (channels, height, width, offset, spread) in cases {
        let g = graph(channels, vec![node("pool", Op::GlobalAvgPool, vec![0], 1)], 0);
        let mut input = rng.tensor(Shape::new(channels, height, width));
        input.data.iter_mut().for_each(|v| *v = offset + spread * *v);
        // What one f32 running sum per channel would give, for scale.
        let naive = input
            .data
            .chunks(height * width)
            .map(|plane| plane.iter().sum::<f32>() / plane.len() as f32)
            .collect::<Vec<f32>>();
        let want = vitrine::cpu::global_avg_pool(&input);
        let naive_diff = want.data.iter().zip(&naive).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        let Some((diff, magnitude)) = compare(&g, input, &StyleParams(vec![])) else { return };
        // The f64 mean rounded to f32 is within half an ulp; allow a few ulps of the mean.
        let tolerance = 4.0 * f32::EPSILON * magnitude.max(1.0);
        println!(
            "pool {channels}x{height}x{width}: max abs diff {diff:.2e} (mean magnitude {magnitude:.2}, tolerance {tolerance:.1e}; \
             one f32 running sum: {naive_diff:.2e})"
        );
        assert!(diff <= tolerance, "pool {channels}x{height}x{width}: max abs diff {diff} > {tolerance}");
    }
}

#[test]
fn channel_affine_matches_cpu() {
    let mut rng = Rng(0x5eed_0008);
    let (channels, offset) = (5, 3);
    let len = offset + 2 * channels + 2;
    let params = StyleParams((0..len).map(|_| 2.0 * rng.f32()).collect());
    let affine = Op::ChannelAffine { channels, params_offset: offset };
    let cases: Vec<(&str, Graph)> = vec![
        ("in place", graph(channels, vec![node("affine", affine.clone(), vec![0], 1)], len)),
        // The input is read again afterwards: the affine works on a copy.
        (
            "on a copy",
            graph(channels, vec![node("affine", affine.clone(), vec![0], 1), node("add", Op::Add, vec![1, 0], 2)], len),
        ),
    ];
    for (name, g) in cases {
        let input = rng.tensor(Shape::new(channels, 13, 9));
        let Some((diff, magnitude)) = compare(&g, input, &params) else { return };
        // One multiply-add per value: a fused one rounds once, the CPU twice.
        let tolerance = 2.0 * f32::EPSILON * magnitude.max(1.0);
        println!("channel affine {name}: max abs diff {diff:.2e} (tolerance {tolerance:.1e})");
        assert!(diff <= tolerance, "channel affine {name}: max abs diff {diff} > {tolerance}");
    }

    // Parameters past the end of the buffer are refused when the graph is built, before any executor sees it.
    let past_the_end = node("affine", Op::ChannelAffine { channels, params_offset: len - 3 }, vec![0], 1);
    let refused = Graph::new(channels, vec![past_the_end], 1, len);
    assert!(matches!(refused, Err(Error::ModelGraph { .. })), "{refused:?}");
}

/// A MobileNetV2 inverted-residual block and its head: conv, ReLU6, depthwise, ReLU6, projection, residual add,
/// global average pool, and a 1x1 conv on the pooled vector.
#[test]
fn mobilenet_block_matches_cpu() {
    use PadMode::Zero;
    let mut rng = Rng(0x5eed_0009);
    let mut conv = |cin, cout, groups, kernel, stride, pad| {
        let c = ConvCase { cin, cout, groups, kernel, stride, pad, mode: Zero, height: 0, width: 0, bias: true };
        Op::Conv2d(random_conv(&mut rng, &c))
    };
    let relu6 = Op::Clip { min: 0.0, max: 6.0 };
    let nodes = vec![
        node("stem", conv(3, 16, 1, 3, 2, sides(0, 0, 1, 1)), vec![0], 1),
        node("stem relu6", relu6.clone(), vec![1], 2),
        node("depthwise", conv(16, 16, 16, 3, 1, u(1)), vec![2], 3),
        node("depthwise relu6", relu6, vec![3], 4),
        node("project", conv(16, 16, 1, 1, 1, u(0)), vec![4], 5),
        node("residual", Op::Add, vec![5, 2], 6),
        node("pool", Op::GlobalAvgPool, vec![6], 7),
        node("head", conv(16, 10, 1, 1, 1, u(0)), vec![7], 8),
    ];
    let g = graph(3, nodes, 0);
    let mut input = rng.tensor(Shape::new(3, 19, 17));
    // Inputs up to 4 so the ReLU6 clips at both ends.
    input.data.iter_mut().for_each(|v| *v *= 4.0);
    let Some((fast, plain, magnitude)) = compare_both_kernels(&g, input, &StyleParams(vec![])) else { return };
    let tolerance = 1e-5 * magnitude.max(1.0);
    println!("mobilenet block: max abs diff {fast:.2e}, plain kernel {plain:.2e} (output magnitude {magnitude:.2}, tolerance {tolerance:.1e})");
    assert!(fast <= tolerance && plain <= tolerance, "mobilenet block: max abs diff {fast} / {plain} > {tolerance}");
}

/// `planar` with `pad` rows and columns added by `mode` (reflect mirrors without repeating the edge).
fn pad_tensor(t: &Tensor, pad: Padding, mode: PadMode) -> Tensor {
    let Shape { channels, height, width } = t.shape;
    let shape = Shape::new(channels, height + pad.top + pad.bottom, width + pad.left + pad.right);
    let index = |i: isize, n: usize| -> Option<usize> {
        let n = n as isize;
        match mode {
            _ if (0..n).contains(&i) => Some(i as usize),
            PadMode::Zero => None,
            PadMode::Reflect => Some(if i < 0 { -i } else { 2 * (n - 1) - i } as usize),
        }
    };
    let mut out = Tensor::zeros(shape);
    for c in 0..channels {
        for y in 0..shape.height {
            for x in 0..shape.width {
                let sy = index(y as isize - pad.top as isize, height);
                let sx = index(x as isize - pad.left as isize, width);
                if let (Some(sy), Some(sx)) = (sy, sx) {
                    out.data[(c * shape.height + y) * shape.width + x] = t.data[(c * height + sy) * width + sx];
                }
            }
        }
    }
    out
}

/// Rows `y0..y1` and columns `x0..x1` of every channel.
fn crop(t: &Tensor, y0: usize, y1: usize, x0: usize, x1: usize) -> Tensor {
    let Shape { channels, height, width } = t.shape;
    let mut data = Vec::with_capacity(channels * (y1 - y0) * (x1 - x0));
    for c in 0..channels {
        for y in y0..y1 {
            data.extend_from_slice(&t.data[(c * height + y) * width + x0..(c * height + y) * width + x1]);
        }
    }
    Tensor { shape: Shape::new(channels, y1 - y0, x1 - x0), data }
}

/// A layer-by-layer tiled run: each conv's output cut into tiles, each tile's input (with its halo) cut from the
/// padded image and convolved on the GPU, the tiles stitched together; the result must be the whole conv.
#[test]
fn conv_tiles_match_the_whole_conv() {
    use PadMode::{Reflect, Zero};
    let mut rng = Rng(0x5eed_000a);
    #[rustfmt::skip]
    let cases = [
        // The style network's 3x3 reflect conv (4-channel kernel), and MobileNetV2's depthwise stride-2 conv.
        ConvCase { cin: 8, cout: 12, groups: 1, kernel: 3, stride: 1, pad: u(1), mode: Reflect, height: 19, width: 23, bias: true },
        ConvCase { cin: 10, cout: 10, groups: 10, kernel: 3, stride: 2, pad: sides(0, 0, 1, 1), mode: Zero, height: 21, width: 18, bias: true },
        ConvCase { cin: 6, cout: 5, groups: 1, kernel: 9, stride: 1, pad: u(4), mode: Reflect, height: 17, width: 15, bias: false },
    ];
    let nodes: Vec<Node> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| node("conv", Op::Conv2d(random_conv(&mut rng, c)), vec![i], i + 1))
        .collect();
    // The graph is only the executor's weight store here; its values do not chain.
    let g = Graph::new(cases[0].cin, nodes, cases.len(), 0).unwrap();
    let Some(mut gpu) = executor(&g) else { return };
    assert!(gpu.buffer_limit() >= 1 << 20);
    let tile = 8;
    let mut sizes_seen = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let Op::Conv2d(conv) = &g.nodes()[i].op else { unreachable!() };
        let input = rng.tensor(Shape::new(case.cin, case.height, case.width));
        let want = vitrine::cpu::conv2d(&input, conv);
        let padded = pad_tensor(&input, case.pad, case.mode);

        // The whole padded input as one tile: the valid convolution, as the CPU computes it with no padding.
        let whole = match pollster::block_on(gpu.run_conv_tile(&g, i, &padded)) {
            Ok(t) => t,
            Err(e) => panic!("conv tile failed: {e}"),
        };
        let unpadded = Conv2d { pad: Padding::default(), ..conv.clone() };
        let diff = max_abs_diff(&vitrine::cpu::conv2d(&padded, &unpadded), &whole);
        let tolerance = 1e-5 * max_abs(&want).max(1.0);
        println!("conv tile case {i}, one tile: max abs diff {diff:.2e} (tolerance {tolerance:.1e})");
        assert!(diff <= tolerance, "conv tile case {i}, one tile: {diff} > {tolerance}");

        let mut stitched = Tensor::zeros(want.shape);
        let (kh, kw, s) = (conv.weights.kernel_h, conv.weights.kernel_w, conv.stride);
        for oy in (0..want.shape.height).step_by(tile) {
            for ox in (0..want.shape.width).step_by(tile) {
                let (oy1, ox1) = ((oy + tile).min(want.shape.height), (ox + tile).min(want.shape.width));
                let part = crop(&padded, oy * s, (oy1 - 1) * s + kh, ox * s, (ox1 - 1) * s + kw);
                if !sizes_seen.contains(&(i, part.shape)) {
                    sizes_seen.push((i, part.shape));
                }
                let got = match pollster::block_on(gpu.run_conv_tile(&g, i, &part)) {
                    Ok(t) => t,
                    Err(e) => panic!("conv tile failed: {e}"),
                };
                assert_eq!(got.shape, Shape::new(want.shape.channels, oy1 - oy, ox1 - ox));
                for c in 0..got.shape.channels {
                    for y in 0..got.shape.height {
                        let from = (c * got.shape.height + y) * got.shape.width;
                        let to = (c * want.shape.height + oy + y) * want.shape.width + ox;
                        stitched.data[to..to + got.shape.width]
                            .copy_from_slice(&got.data[from..from + got.shape.width]);
                    }
                }
            }
        }
        let diff = max_abs_diff(&want, &stitched);
        println!("conv tile case {i}, {tile}x{tile} output tiles: max abs diff {diff:.2e} (tolerance {tolerance:.1e})");
        assert!(diff <= tolerance, "conv tile case {i}, tiled: {diff} > {tolerance}");
    }
    // Plans are cached per (node, tile size) and bounded.
    println!("{} tile sizes over {} convs, {} plans kept", sizes_seen.len(), cases.len(), gpu.plan_count());
    assert!(sizes_seen.len() > 4 && gpu.plan_count() <= 4);

    // What a tile cannot be.
    let tile_of = |shape: Shape| Tensor::zeros(shape);
    let bad = [
        (0, tile_of(Shape::new(7, 10, 10)), "the wrong channel count"),
        (0, tile_of(Shape::new(8, 2, 10)), "smaller than the kernel"),
        (3, tile_of(Shape::new(8, 10, 10)), "a node past the end"),
    ];
    for (node_index, input, what) in bad {
        // The tiler is the only caller: a wrong tile is vitrine's own bug, not the model's.
        let refused = pollster::block_on(gpu.run_conv_tile(&g, node_index, &input));
        assert!(matches!(refused, Err(Error::Internal { .. })), "{what}: {refused:?}");
    }
}

#[test]
fn conv_tile_past_the_buffer_limit_is_refused_before_allocating() {
    use PadMode::Zero;
    let mut rng = Rng(0x5eed_000b);
    let case = ConvCase {
        cin: 1,
        cout: 256,
        groups: 1,
        kernel: 1,
        stride: 1,
        pad: u(0),
        mode: Zero,
        height: 0,
        width: 0,
        bias: false,
    };
    let g = graph(1, vec![node("conv", Op::Conv2d(random_conv(&mut rng, &case)), vec![0], 1)], 0);
    let Some(mut gpu) = executor(&g) else { return };
    let limit = gpu.buffer_limit();
    // The smallest square tile whose 256-channel output needs a buffer beyond the limit.
    let side = (((limit / 1024) as f64).sqrt() as usize) + 1;
    if side * side > 1 << 24 {
        println!("skipping: this GPU's binding limit ({limit} bytes) is beyond what the test can build");
        return;
    }
    let input = Tensor::zeros(Shape::new(1, side, side));
    match pollster::block_on(gpu.run_conv_tile(&g, 0, &input)) {
        Err(Error::GpuBufferLimit { needed, limit: reported }) => {
            assert_eq!(reported, limit);
            assert!(needed > limit);
        }
        Err(e) => panic!("expected GpuBufferLimit, got {e}"),
        Ok(_) => panic!("expected GpuBufferLimit, the tile ran"),
    }
    assert_eq!(gpu.plan_count(), 0);
    let small = rng.tensor(Shape::new(1, 3, 5));
    let Op::Conv2d(conv) = &g.nodes()[0].op else { unreachable!() };
    let got = match pollster::block_on(gpu.run_conv_tile(&g, 0, &small)) {
        Ok(t) => t,
        Err(e) => panic!("conv tile failed: {e}"),
    };
    assert!(max_abs_diff(&vitrine::cpu::conv2d(&small, conv), &got) <= 1e-5);
}

fn norm_graph(rng: &mut Rng, channels: usize, offset: usize) -> (Graph, StyleParams) {
    let norm = InstanceNorm {
        channels,
        eps: 1e-5,
        affine: NormAffine::StyleTable { gamma: vec![1.0; channels], beta: vec![0.0; channels] },
        params_offset: offset,
    };
    let len = offset + 2 * channels + 3;
    let params = StyleParams((0..len).map(|_| 2.0 * rng.f32()).collect());
    (graph(channels, vec![node("norm", Op::InstanceNorm(norm), vec![0], 1)], len), params)
}

#[test]
fn instance_norm_matches_cpu() {
    let mut rng = Rng(0x5eed_0002);
    for (i, &(channels, height, width, offset)) in
        [(3, 7, 5, 0), (5, 13, 9, 7), (32, 13, 9, 2), (3, 61, 47, 0), (5, 1, 3, 1)].iter().enumerate()
    {
        let (g, params) = norm_graph(&mut rng, channels, offset);
        // An offset mean and a small spread: where a one-pass variance would lose its digits.
        let mut input = rng.tensor(Shape::new(channels, height, width));
        input.data.iter_mut().for_each(|v| *v = 50.0 + 0.1 * *v);
        let Some((diff, magnitude)) = compare(&g, input, &params) else { return };
        let tolerance = 2e-4 * magnitude.max(1.0);
        println!("norm case {i}: max abs diff {diff:.2e} (output magnitude {magnitude:.2}, tolerance {tolerance:.1e})");
        assert!(diff <= tolerance, "norm case {i}: max abs diff {diff} > {tolerance}");
    }
}

#[test]
fn elementwise_and_upsample_match_cpu() {
    let mut rng = Rng(0x5eed_0003);
    let shape = Shape::new(5, 7, 5);
    let cases: Vec<(&str, Graph, f32)> = vec![
        ("relu", graph(5, vec![node("relu", Op::Relu, vec![0], 1)], 0), 0.0),
        ("sigmoid", graph(5, vec![node("sigmoid", Op::Sigmoid, vec![0], 1)], 0), 1e-6),
        // x + x: both operands are one buffer, so the GPU works on a copy.
        ("add x+x", graph(5, vec![node("add", Op::Add, vec![0, 0], 1)], 0), 0.0),
        // relu(x) + x, with relu's result dying into the sum and x read again later.
        (
            "relu then add",
            graph(5, vec![node("relu", Op::Relu, vec![0], 1), node("add", Op::Add, vec![1, 0], 2)], 0),
            0.0,
        ),
        ("upsample x2", graph(5, vec![node("up", Op::UpsampleNearest { factor: 2 }, vec![0], 1)], 0), 0.0),
        ("upsample x3", graph(5, vec![node("up", Op::UpsampleNearest { factor: 3 }, vec![0], 1)], 0), 0.0),
    ];
    for (name, g, tolerance) in cases {
        let input = rng.tensor(shape);
        let Some((diff, _)) = compare(&g, input, &StyleParams(vec![])) else { return };
        println!("{name}: max abs diff {diff:.2e} (tolerance {tolerance:.0e})");
        assert!(diff <= tolerance, "{name}: max abs diff {diff} > {tolerance}");
    }
}

/// A small residual network: values die and their buffers are reused, in-place ops alias, a skip value lives long.
#[test]
fn small_network_matches_cpu() {
    let mut rng = Rng(0x5eed_0004);
    use PadMode::Reflect;
    let conv = |rng: &mut Rng, cin, cout, kernel, stride| {
        let pad = Padding::uniform(kernel / 2);
        let c = ConvCase { cin, cout, groups: 1, kernel, stride, pad, mode: Reflect, height: 0, width: 0, bias: true };
        Op::Conv2d(random_conv(rng, &c))
    };
    let norm = |channels, offset| {
        Op::InstanceNorm(InstanceNorm {
            channels,
            eps: 1e-5,
            affine: NormAffine::StyleTable { gamma: vec![1.0; channels], beta: vec![0.0; channels] },
            params_offset: offset,
        })
    };
    let nodes = vec![
        node("c1", conv(&mut rng, 3, 8, 3, 1), vec![0], 1),
        node("n1", norm(8, 0), vec![1], 2),
        node("r1", Op::Relu, vec![2], 3),
        node("c2", conv(&mut rng, 8, 16, 3, 2), vec![3], 4),
        node("n2", norm(16, 16), vec![4], 5),
        node("r2", Op::Relu, vec![5], 6),
        node("c3", conv(&mut rng, 16, 16, 3, 1), vec![6], 7),
        node("n3", norm(16, 48), vec![7], 8),
        node("skip", Op::Add, vec![8, 6], 9),
        node("up", Op::UpsampleNearest { factor: 2 }, vec![9], 10),
        node("c4", conv(&mut rng, 16, 3, 3, 1), vec![10], 11),
        node("out", Op::Sigmoid, vec![11], 12),
    ];
    let params_len = 80;
    let params = StyleParams((0..params_len).map(|_| 1.0 + 0.5 * rng.f32()).collect());
    let g = graph(3, nodes, params_len);
    let input = rng.tensor(Shape::new(3, 14, 10));
    let Some((diff, _)) = compare(&g, input, &params) else { return };
    println!("small network: max abs diff {diff:.2e}");
    assert!(diff <= 1e-4, "small network: max abs diff {diff}");
}

/// A deterministic test card: gradients, stripes and a disc, so every channel has structure.
fn synthetic_image(width: usize, height: usize) -> Vec<u8> {
    let mut rgba = Vec::with_capacity(width * height * 4);
    for y in 0..height {
        for x in 0..width {
            let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
            let disc = ((fx - 0.6).powi(2) + (fy - 0.4).powi(2)) < 0.05;
            let stripe = (x / 4 + y / 6) % 2 == 0;
            rgba.extend_from_slice(&[
                (255.0 * fx) as u8,
                if disc { 230 } else { (255.0 * fy) as u8 },
                if stripe { 200 } else { 40 },
                255,
            ]);
        }
    }
    rgba
}

#[test]
fn builtin_model_matches_cpu() {
    let model = match Model::builtin() {
        Ok(m) => m,
        Err(e) => panic!("the built-in model does not load: {e}"),
    };
    let Some(mut gpu) = executor(&model.graph) else { return };
    println!("adapter: {:?}", gpu.summary());
    let input_for = |width: u32, height: u32| {
        let (pw, ph) = model.padded_size(width, height);
        vitrine::pixels::prepare(
            &synthetic_image(width as usize, height as usize),
            width as usize,
            height as usize,
            pw,
            ph,
        )
    };
    let params_for = |spec: &StyleSpec| match spec.resolve(model.style_count) {
        Ok(weights) => StyleParams::mix(&model.graph, &weights),
        Err(e) => panic!("{e}"),
    };
    let input = input_for(64, 48);
    let specs = [StyleSpec::Preset(3), StyleSpec::Mix(vec![(1, 0.3), (19, 0.7)])];
    let mut outputs = Vec::new();
    for spec in &specs {
        let params = params_for(spec);
        let started = Instant::now();
        let want = match vitrine::cpu::run(&model.graph, input.clone(), &params) {
            Ok(t) => t,
            Err(e) => panic!("CPU run failed: {e}"),
        };
        let cpu_time = started.elapsed();
        let started = Instant::now();
        let got = gpu_run(&mut gpu, &model.graph, &input, &params);
        let gpu_time = started.elapsed();
        let (diff, quality) = (max_abs_diff(&want, &got), psnr(&want, &got));
        println!(
            "style {spec}: 64x48 max abs diff {diff:.2e}, PSNR {quality:.1} dB; CPU {:.0} ms, GPU {:.0} ms",
            cpu_time.as_secs_f64() * 1e3,
            gpu_time.as_secs_f64() * 1e3
        );
        // The output is a sigmoid in 0..1; 2e-3 is half a step of an 8-bit pixel.
        assert!(diff < 2e-3, "style {spec}: max abs diff {diff}");
        assert!(quality > 60.0, "style {spec}: PSNR {quality}");
        outputs.push(got);
    }
    // One plan served both styles; a style change is only new parameters, and it changes the picture.
    assert_eq!(gpu.plan_count(), 1);
    let change = max_abs_diff(&outputs[0], &outputs[1]);
    assert!(change > 1e-2, "changing the style changed the output by only {change}");

    // A second size gets its own plan; the first is kept.
    let other = input_for(40, 56);
    let params = params_for(&specs[0]);
    let got = gpu_run(&mut gpu, &model.graph, &other, &params);
    assert_eq!(got.shape, Shape::new(3, other.shape.height, other.shape.width));
    assert_eq!(gpu.plan_count(), 2);
    let want = match vitrine::cpu::run(&model.graph, other.clone(), &params) {
        Ok(t) => t,
        Err(e) => panic!("CPU run failed: {e}"),
    };
    let diff = max_abs_diff(&want, &got);
    println!("40x56: max abs diff {diff:.2e}, PSNR {:.1} dB", psnr(&want, &got));
    assert!(diff < 2e-3, "40x56: max abs diff {diff}");

    // Warm: same size again reuses the first plan.
    let started = Instant::now();
    let again = gpu_run(&mut gpu, &model.graph, &input, &params_for(&specs[0]));
    println!("64x48 warm GPU run: {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
    assert_eq!(gpu.plan_count(), 2);
    assert_eq!(again.data, outputs[0].data, "the same input and style gave a different result");
}

#[test]
fn oversized_buffer_is_refused_before_allocating() {
    let g = graph(1, vec![node("up", Op::UpsampleNearest { factor: 2 }, vec![0], 1)], 0);
    let Some(mut gpu) = executor(&g) else { return };
    let limit = gpu.summary().max_storage_binding;
    // The smallest square whose 2x upsampling needs a buffer beyond the limit.
    let side = (((limit / 16) as f64).sqrt() as usize) + 1;
    if (side * side * 4) as u64 > limit || side * side * 4 > vitrine::graph::MAX_VALUES_PER_TENSOR {
        println!("skipping: this GPU's binding limit ({limit} bytes) is beyond what the test can build");
        return;
    }
    let input = Tensor::zeros(Shape::new(1, side, side));
    match pollster::block_on(gpu.run(&g, &input, &StyleParams(vec![]))) {
        Err(Error::GpuBufferLimit { needed, limit: reported }) => {
            assert_eq!(reported, limit);
            assert!(needed > limit);
        }
        Err(e) => panic!("expected GpuBufferLimit, got {e}"),
        Ok(_) => panic!("expected GpuBufferLimit, the run succeeded"),
    }
    assert_eq!(gpu.plan_count(), 0);
    // The executor is still usable.
    let small = Tensor { shape: Shape::new(1, 3, 5), data: (0..15).map(|v| v as f32).collect() };
    let out = gpu_run(&mut gpu, &g, &small, &StyleParams(vec![]));
    assert_eq!(out, vitrine::cpu::upsample_nearest(&small, 2));
}

#[test]
fn a_lost_device_is_an_error_and_the_styler_recovers_on_a_new_one() {
    let model = Model::builtin().unwrap();
    let Some(mut gpu) = executor(&model.graph) else { return };
    let (pw, ph) = model.padded_size(24, 20);
    let input = vitrine::pixels::prepare(&synthetic_image(24, 20), 24, 20, pw, ph);
    let params = StyleParams::mix(&model.graph, &StyleSpec::Preset(5).resolve(model.style_count).unwrap());
    gpu_run(&mut gpu, &model.graph, &input, &params);
    gpu.lose_device();
    assert!(gpu.is_lost());
    let failed = pollster::block_on(gpu.run(&model.graph, &input, &params));
    assert!(matches!(failed, Err(Error::GpuFailed { .. })), "{failed:?}");

    // The Styler opens a new device and styles the same image again: the caller gets its result.
    let mut styler = vitrine::Styler::new(Model::builtin().unwrap(), vitrine::Backend::Gpu).unwrap();
    let rgba = synthetic_image(24, 20);
    let options = vitrine::Options { style: StyleSpec::Preset(5), ..vitrine::Options::default() };
    let before = styler.stylize(24, 20, &rgba, &options).unwrap();
    styler.gpu().unwrap().lose_device();
    let after = styler.stylize(24, 20, &rgba, &options).unwrap();
    assert_eq!(before, after);
    assert!(!styler.gpu().unwrap().is_lost());
    assert_eq!(styler.gpu_reopens(), 1, "the loss was met and a new device opened");
}

/// A device lost in the middle of a streamed run (during the layered statistics pass, after a few conv bands) and
/// before a style-vector run: the Styler opens a new device and the caller gets the same pixels.
#[test]
fn a_device_lost_mid_run_recovers_with_the_same_pixels() {
    if executor(&Model::builtin().unwrap().graph).is_none() {
        return;
    }
    let (w, h) = (96u32, 72u32);
    let rgba = synthetic_image(w as usize, h as usize);
    let options = vitrine::Options { style: StyleSpec::Preset(19), ..vitrine::Options::default() };
    let mut tiled = vitrine::Styler::new(Model::builtin().unwrap(), vitrine::Backend::Gpu)
        .unwrap()
        .with_tile_size(Some(64))
        .unwrap();
    assert!(matches!(tiled.tile_plan(w, h).unwrap().mode, vitrine::tiling::Mode::Streamed { .. }));
    let before = tiled.stylize(w, h, &rgba, &options).unwrap();
    tiled.gpu().unwrap().lose_device_after(3);
    let after = tiled.stylize(w, h, &rgba, &options).unwrap();
    assert_eq!(before, after, "a streamed run after a loss mid-run");
    assert!(!tiled.gpu().unwrap().is_lost());
    assert_eq!(tiled.gpu_reopens(), 1, "the loss came mid-run and a new device finished it");

    let transformer = Model::builtin_arbitrary().unwrap();
    let mut styler = vitrine::Styler::new(transformer, vitrine::Backend::Gpu)
        .unwrap()
        .with_predictor(Model::builtin_predictor().unwrap())
        .unwrap();
    let vector = styler.style_vector(w, h, &rgba).unwrap();
    let options = vitrine::Options { style: StyleSpec::Vector(vector), strength: 0.6, ..vitrine::Options::default() };
    let before = styler.stylize(w, h, &rgba, &options).unwrap();
    styler.gpu().unwrap().lose_device_after(0);
    let after = styler.stylize(w, h, &rgba, &options).unwrap();
    assert_eq!(before, after, "a style-vector run after a loss");
    assert_eq!(styler.gpu_reopens(), 1, "the loss was met and a new device opened");
}

/// What comes before a case's conv in the fused plan's tests: nothing (it reads the photo), a conv whose output
/// it reads with a norm and ReLU pending, or the same upsampled.
#[derive(Clone, Copy, Debug)]
enum Before {
    Photo,
    NormRelu,
    NormReluUpsample,
}

/// Every `conv_tiled` shape (full, half, wide, narrow) on odd sizes that leave partial tiles, with reflect and zero
/// padding, biases, two blocks of output channels, and inputs whose norm, ReLU and upsampling the conv does as it
/// loads: on the fused plan, against the CPU.
#[test]
fn fused_convs_match_cpu_on_every_tile_shape() {
    use Before::{NormRelu, NormReluUpsample, Photo};
    use PadMode::{Reflect, Zero};
    #[rustfmt::skip]
    let cases = [
        (Photo, ConvCase { cin: 3, cout: 32, groups: 1, kernel: 9, stride: 1, pad: u(4), mode: Reflect, height: 21, width: 19, bias: false }),
        (NormRelu, ConvCase { cin: 32, cout: 32, groups: 1, kernel: 3, stride: 1, pad: u(1), mode: Reflect, height: 37, width: 23, bias: true }),
        (NormRelu, ConvCase { cin: 32, cout: 32, groups: 1, kernel: 3, stride: 2, pad: u(1), mode: Reflect, height: 33, width: 29, bias: false }),
        (NormRelu, ConvCase { cin: 32, cout: 40, groups: 1, kernel: 3, stride: 1, pad: u(1), mode: Zero, height: 18, width: 17, bias: true }),
        (NormReluUpsample, ConvCase { cin: 32, cout: 8, groups: 1, kernel: 3, stride: 1, pad: u(1), mode: Reflect, height: 11, width: 9, bias: false }),
        (NormReluUpsample, ConvCase { cin: 8, cout: 4, groups: 1, kernel: 3, stride: 1, pad: u(1), mode: Reflect, height: 13, width: 10, bias: true }),
        (NormRelu, ConvCase { cin: 4, cout: 3, groups: 1, kernel: 9, stride: 1, pad: u(4), mode: Reflect, height: 26, width: 18, bias: true }),
        (NormRelu, ConvCase { cin: 5, cout: 4, groups: 1, kernel: 1, stride: 1, pad: u(0), mode: Zero, height: 7, width: 9, bias: false }),
        (Photo, ConvCase { cin: 3, cout: 6, groups: 1, kernel: 3, stride: 2, pad: sides(0, 1, 1, 0), mode: Zero, height: 19, width: 21, bias: true }),
    ];
    let mut rng = Rng(0x5eed_0006);
    for (i, (before, case)) in cases.iter().enumerate() {
        let conv = random_conv(&mut rng, case);
        let mut nodes = Vec::new();
        let mut params = Vec::new();
        let mut last = 0;
        if !matches!(before, Photo) {
            let first = ConvCase { cin: 3, cout: case.cin, kernel: 3, stride: 1, pad: u(1), mode: Reflect, ..*case };
            nodes.push(node("first", Op::Conv2d(random_conv(&mut rng, &first)), vec![0], 1));
            let norm = InstanceNorm {
                channels: case.cin,
                eps: 1e-5,
                affine: NormAffine::StyleTable { gamma: vec![1.0; case.cin], beta: vec![0.0; case.cin] },
                params_offset: 0,
            };
            params = (0..2 * case.cin).map(|_| 0.5 + rng.f32()).collect();
            nodes.push(node("norm", Op::InstanceNorm(norm), vec![1], 2));
            nodes.push(node("relu", Op::Relu, vec![2], 3));
            last = 3;
            if matches!(before, NormReluUpsample) {
                nodes.push(node("up", Op::UpsampleNearest { factor: 2 }, vec![3], 4));
                last = 4;
            }
        }
        nodes.push(node("conv", Op::Conv2d(conv), vec![last], last + 1));
        let g = graph(3, nodes, params.len());
        assert_eq!(vitrine::gpu::fused_unsupported(&g), None, "case {i} should run on the fused plan");
        let input = rng.tensor(Shape::new(3, case.height, case.width));
        let Some((diff, magnitude)) = compare(&g, input, &StyleParams(params)) else { return };
        let tolerance = 2e-5 * magnitude.max(1.0);
        println!("fused case {i} ({before:?}): max abs diff {diff:.2e} (magnitude {magnitude:.2}, tolerance {tolerance:.1e})");
        assert!(diff <= tolerance, "fused case {i}: max abs diff {diff} > {tolerance}");
    }
}

/// The built-in network on the fused plan against the baseline kernels and the CPU, in one executor: both GPU paths
/// agree with the oracle, and the fused one takes fewer dispatches.
#[test]
fn fused_and_baseline_kernels_agree_on_the_builtin_network() {
    let model = Model::builtin().unwrap_or_else(|e| panic!("{e}"));
    let Some(mut gpu) = executor(&model.graph) else { return };
    let (pw, ph) = model.padded_size(45, 31);
    let input = vitrine::pixels::prepare(&synthetic_image(45, 31), 45, 31, pw, ph);
    let params = StyleParams::mix(&model.graph, &StyleSpec::Preset(7).resolve(model.style_count).unwrap());
    let want = vitrine::cpu::run(&model.graph, input.clone(), &params).unwrap_or_else(|e| panic!("{e}"));
    let fused = gpu_run(&mut gpu, &model.graph, &input, &params);
    gpu.use_kernels(KernelSet::Baseline);
    let baseline = gpu_run(&mut gpu, &model.graph, &input, &params);
    let (f, b) = (max_abs_diff(&want, &fused), max_abs_diff(&want, &baseline));
    println!("45x31: fused {f:.2e}, baseline {b:.2e} from the CPU");
    assert!(f < 1e-3 && b < 1e-3, "fused {f}, baseline {b}");
}

/// RGBA8 up, RGBA8 back: the photo unpacked (white under alpha, reflect padding) and the result packed on the GPU
/// give what the CPU's `pixels` module gives around the planar run, to the rounding of one 8-bit step.
#[test]
fn rgba8_runs_match_the_pixels_module() {
    let model = Model::builtin().unwrap_or_else(|e| panic!("{e}"));
    let Some(mut gpu) = executor(&model.graph) else { return };
    let (w, h) = (45usize, 31usize);
    let mut photo = synthetic_image(w, h);
    // Some transparency, over colours the network must not see.
    for (i, px) in photo.chunks_exact_mut(4).enumerate() {
        if i % 7 == 0 {
            px[3] = (i % 256) as u8;
        }
    }
    let (pw, ph) = model.padded_size(w as u32, h as u32);
    assert!(pw > w && ph > h, "the case must need padding");
    let params = StyleParams::mix(&model.graph, &StyleSpec::Preset(19).resolve(model.style_count).unwrap());
    let before = gpu.readbacks();
    let got = pollster::block_on(gpu.run_rgba(&model.graph, &photo, (w, h), (ph, pw), &params))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(gpu.readbacks(), before + 1);
    let planar = vitrine::cpu::run(&model.graph, vitrine::pixels::prepare(&photo, w, h, pw, ph), &params)
        .unwrap_or_else(|e| panic!("{e}"));
    let opaque: Vec<u8> = photo.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2], 255]).collect();
    let full = vitrine::pixels::Finish { strength: 1.0, preserve_color: false };
    // With an opaque original, `finish` leaves the styled pixels themselves.
    let want = vitrine::pixels::finish(&planar, &opaque, w, h, full);
    assert_eq!(got.len(), want.len());
    let worst = got.iter().zip(&want).map(|(a, b)| a.abs_diff(*b)).max().unwrap_or(0);
    assert!(worst <= 1, "RGBA8 path differs by {worst} steps");
    assert!(got.chunks_exact(4).all(|p| p[3] == 255));
}

/// f16 activations (where the adapter has shader-f16; lavapipe does): the fixtures' photos against the CPU path and
/// against fp32 onnxruntime.
#[test]
fn the_f16_path_holds_its_quality() {
    use safetensors::SafeTensors;
    let model = Model::builtin().unwrap_or_else(|e| panic!("{e}"));
    let Some(mut gpu) = any_executor(&model.graph) else { return };
    if gpu.use_precision(Precision::F16).is_err() {
        println!("skipped: {} has no shader-f16", gpu.summary().name);
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut cases = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().and_then(|e| e.to_str()) != Some("safetensors") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let tensors = SafeTensors::deserialize(&bytes).unwrap_or_else(|e| panic!("{e}"));
        let f32s = |name: &str| common::f32s(&tensors, name);
        let photo = tensors.tensor("input").unwrap_or_else(|e| panic!("{e}"));
        let (h, w) = (photo.shape()[0], photo.shape()[1]);
        let (pw, ph) = model.padded_size(w as u32, h as u32);
        let input = vitrine::pixels::prepare(photo.data(), w, h, pw, ph);
        let params = StyleParams::mix(&model.graph, &f32s("style_weights"));
        let want = vitrine::cpu::run(&model.graph, input.clone(), &params).unwrap_or_else(|e| panic!("{e}"));
        let got = gpu_run(&mut gpu, &model.graph, &input, &params);
        let (cpu, f16) = (common::crop_planar(&want, w, h), common::crop_planar(&got, w, h));
        let against_cpu = common::psnr_unit(&f16, &cpu);
        let against_fp32 = common::psnr_unit(&f16, &f32s("expected"));
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        println!("{name}: f16 path {against_cpu:.1} dB against the CPU, {against_fp32:.1} dB against fp32 onnxruntime");
        assert!(against_cpu >= 44.0, "{name}: {against_cpu} dB against the CPU");
        assert!(against_fp32 >= 38.0, "{name}: {against_fp32} dB against fp32 onnxruntime");
        cases += 1;
    }
    assert!(cases >= 4, "expected the four committed fixtures, found {cases}");
}

/// A soft disc off the centre of a `width x height` plane: 1 inside, 0 well outside, a ramp between.
fn soft_disc(width: usize, height: usize) -> Vec<f32> {
    let (cx, cy) = (0.55 * width as f32, 0.45 * height as f32);
    let radius = 0.3 * width.min(height) as f32;
    let edge = 0.15 * width.min(height) as f32;
    (0..height)
        .flat_map(|y| (0..width).map(move |x| (x as f32 + 0.5, y as f32 + 0.5)))
        .map(|(x, y)| ((radius - ((x - cx).powi(2) + (y - cy).powi(2)).sqrt()) / edge + 0.5).clamp(0.0, 1.0))
        .collect()
}

fn norm_weights(width: usize, height: usize, plane: Vec<f32>) -> vitrine::cpu::NormWeights {
    vitrine::cpu::NormWeights::new(width, height, plane).unwrap_or_else(|e| panic!("{e}"))
}

/// The kernels and precisions a weighted run is held to the CPU with: the fused plan in f32 and f16, the baseline
/// (planar f32 whatever the precision) under both settings.
const WEIGHTED_CASES: [(KernelSet, Precision); 4] = [
    (KernelSet::Fused, Precision::F32),
    (KernelSet::Fused, Precision::F16),
    (KernelSet::Baseline, Precision::F32),
    (KernelSet::Baseline, Precision::F16),
];

fn weighted_run(
    gpu: &mut GpuExecutor,
    graph: &Graph,
    input: &Tensor,
    params: &StyleParams,
    weights: &vitrine::cpu::NormWeights,
) -> Tensor {
    pollster::block_on(gpu.run_weighted(graph, input, params, weights))
        .unwrap_or_else(|e| panic!("weighted GPU run failed: {e}"))
}

/// Every instance norm's statistics weighted by a soft disc (a product's matte) on an odd-sized photo: the GPU's own
/// plans (the fused convs' tile statistics and the baseline's norm statistics pass, f32 and f16 storage) against
/// the CPU's weighted run, within the unweighted end-to-end tolerances; and a wrong plane fails them.
#[test]
fn weighted_runs_match_the_cpu() {
    let model = Model::builtin().unwrap_or_else(|e| panic!("{e}"));
    let Some(mut gpu) = any_executor(&model.graph) else { return };
    let (w, h) = (67usize, 53usize);
    let (pw, ph) = model.padded_size(w as u32, h as u32);
    let input = vitrine::pixels::prepare(&synthetic_image(w, h), w, h, pw, ph);
    let params = StyleParams::mix(&model.graph, &StyleSpec::Preset(3).resolve(model.style_count).unwrap());
    let weights = norm_weights(pw, ph, soft_disc(pw, ph));
    let want = vitrine::cpu::run_weighted(&model.graph, input.clone(), &params, Some(&weights))
        .unwrap_or_else(|e| panic!("{e}"));
    // The weighing matters: the plain statistics give another picture.
    let plain = vitrine::cpu::run(&model.graph, input.clone(), &params).unwrap_or_else(|e| panic!("{e}"));
    let change = max_abs_diff(&want, &plain);
    println!(
        "{pw}x{ph}: weighted against plain statistics on the CPU: max abs diff {change:.3}, {:.1} dB",
        psnr(&want, &plain)
    );
    assert!(change > 0.05, "weighing the statistics changed the output by only {change}");
    // The disc turned inside out: a run that weighed the wrong pixels.
    let inverted = norm_weights(pw, ph, soft_disc(pw, ph).into_iter().map(|w| 1.0 - w).collect());
    for (kernels, precision) in WEIGHTED_CASES {
        if gpu.use_precision(precision).is_err() {
            println!("{} {}: skipped, {} has no shader-f16", kernels.name(), precision.name(), gpu.summary().name);
            continue;
        }
        gpu.use_kernels(kernels);
        let got = weighted_run(&mut gpu, &model.graph, &input, &params, &weights);
        let (diff, quality) = (max_abs_diff(&want, &got), psnr(&want, &got));
        let wrong = weighted_run(&mut gpu, &model.graph, &input, &params, &inverted);
        let (wrong_diff, wrong_quality) = (max_abs_diff(&want, &wrong), psnr(&want, &wrong));
        let name = format!("{} {}", kernels.name(), precision.name());
        println!(
            "{name} weighted {pw}x{ph}: max abs diff {diff:.2e}, PSNR {quality:.1} dB against the CPU \
             (wrong weights: {wrong_diff:.2e}, {wrong_quality:.1} dB)"
        );
        let f16_storage = kernels == KernelSet::Fused && precision == Precision::F16;
        if f16_storage {
            assert!(quality >= 44.0, "{name}: {quality} dB against the CPU");
        } else {
            // As the unweighted end-to-end test: half a step of an 8-bit pixel, 60 dB.
            assert!(diff < 2e-3, "{name}: max abs diff {diff}");
            assert!(quality > 60.0, "{name}: PSNR {quality}");
        }
        assert!(wrong_quality < 40.0, "{name}: the wrong weights came within {wrong_quality} dB");
    }
}

/// All-ones weights are the plain statistics: a weighted run gives the unweighted run's output, on every plan.
#[test]
fn all_ones_weights_equal_the_unweighted_run() {
    let model = Model::builtin().unwrap_or_else(|e| panic!("{e}"));
    let Some(mut gpu) = any_executor(&model.graph) else { return };
    let (w, h) = (67usize, 53usize);
    let (pw, ph) = model.padded_size(w as u32, h as u32);
    let input = vitrine::pixels::prepare(&synthetic_image(w, h), w, h, pw, ph);
    let params = StyleParams::mix(&model.graph, &StyleSpec::Preset(19).resolve(model.style_count).unwrap());
    let ones = norm_weights(pw, ph, vec![1.0; pw * ph]);
    // No weight anywhere leaves the plain statistics standing too, as on the CPU.
    let zeros = norm_weights(pw, ph, vec![0.0; pw * ph]);
    for (kernels, precision) in WEIGHTED_CASES {
        if gpu.use_precision(precision).is_err() {
            continue;
        }
        gpu.use_kernels(kernels);
        let plain = gpu_run(&mut gpu, &model.graph, &input, &params);
        let weighted = weighted_run(&mut gpu, &model.graph, &input, &params, &ones);
        let none = weighted_run(&mut gpu, &model.graph, &input, &params, &zeros);
        let name = format!("{} {}", kernels.name(), precision.name());
        let (diff, diff_none) = (max_abs_diff(&plain, &weighted), max_abs_diff(&plain, &none));
        println!(
            "{name}: all-ones weights against the unweighted run: max abs diff {diff:.2e} (all zeros {diff_none:.2e})"
        );
        assert!(diff == 0.0, "{name}: all-ones weights changed the output by {diff}");
        assert!(diff_none == 0.0, "{name}: all-zero weights changed the output by {diff_none}");
    }
}

/// What weighing the statistics costs in the plan itself (no device): the same dispatches in the same passes, the
/// weight planes uploaded once, and only the passes that take statistics reading more: the fused convs feeding a
/// norm read their tiles' weights, the baseline's norm statistics read the plane's beside each channel.
#[test]
fn weighted_plans_cost_only_the_weights_they_read() {
    let model = Model::builtin().unwrap_or_else(|e| panic!("{e}"));
    let (width, height) = (1024, 1024);
    for (kernels, precision, most) in [
        (KernelSet::Fused, Precision::F32, 0.025),
        (KernelSet::Fused, Precision::F16, 0.04),
        (KernelSet::Baseline, Precision::F32, 0.06),
    ] {
        let plain = plan_cost(&model.graph, height, width, kernels, precision).unwrap_or_else(|e| panic!("{e}"));
        let weighted =
            weighted_plan_cost(&model.graph, height, width, kernels, precision).unwrap_or_else(|e| panic!("{e}"));
        let name = format!("{} {}", kernels.name(), precision.name());
        let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
        let more = weighted.bytes() as f64 / plain.bytes() as f64 - 1.0;
        println!(
            "{name} at {width}x{height}: {} dispatches, {} pass(es), {:.3} GiB moved, upload {:.2} MiB unweighted; \
             weighted {} dispatches, {} pass(es), {:.3} GiB moved (+{:.2}%), upload {:.2} MiB",
            plain.dispatches(),
            plain.passes,
            plain.bytes() as f64 / GIB,
            mib(plain.upload()),
            weighted.dispatches(),
            weighted.passes,
            weighted.bytes() as f64 / GIB,
            100.0 * more,
            mib(weighted.upload()),
        );
        assert_eq!(weighted.dispatches(), plain.dispatches(), "{name}");
        assert_eq!(weighted.passes, plain.passes, "{name}");
        assert_eq!(weighted.min_workgroups(), plain.min_workgroups(), "{name}");
        assert!(more > 0.0 && more <= most, "{name}: weighing moves {:.2}% more bytes", 100.0 * more);
        // The planes at the norms' three resolutions: the input's, a quarter and a sixteenth of it, f32 each.
        let planes = (width * height * 4) as u64 * 21 / 16;
        assert_eq!(weighted.upload(), plain.upload() + planes, "{name}");
    }
}
