//! The public Rust API on the CPU backend: sizes, alpha, strength, and every bad input a caller can pass.

use vitrine::tiling::TileLimits;
use vitrine::{Backend, Error, Limits, Model, Options, StyleSpec, Styler};

fn styler() -> Styler {
    Styler::new(Model::builtin().unwrap(), Backend::Cpu).unwrap()
}

/// A deterministic photo-like gradient with a soft disc, so every style has structure to work on.
fn photo(width: u32, height: u32, alpha: impl Fn(u32, u32) -> u8) -> Vec<u8> {
    let mut rgba = Vec::with_capacity((width * height * 4) as usize);
    for y in 0..height {
        for x in 0..width {
            let (dx, dy) = (x as f32 - width as f32 / 2.0, y as f32 - height as f32 / 2.0);
            let disc = if dx * dx + dy * dy < (width.min(height) as f32 / 3.0).powi(2) { 90 } else { 0 };
            rgba.extend_from_slice(&[(x * 255 / width) as u8, (y * 255 / height) as u8, 60 + disc, alpha(x, y)]);
        }
    }
    rgba
}

#[test]
fn odd_sizes_come_back_exactly_the_input_size() {
    let mut styler = styler();
    for (w, h) in [(331, 257), (5, 5), (17, 9)] {
        let out = styler.stylize(w, h, &photo(w, h, |_, _| 255), &Options::default()).unwrap();
        assert_eq!(out.len(), (w * h * 4) as usize, "{w}x{h}");
    }
}

#[test]
fn the_edges_are_styled_like_the_interior() {
    // Reflect padding keeps the border free of dark or bright frames: the outermost column's mean brightness
    // stays close to its neighbour's a few pixels in.
    let (w, h) = (61, 47);
    let out = styler()
        .stylize(w, h, &photo(w, h, |_, _| 255), &Options { style: StyleSpec::Preset(19), ..Options::default() })
        .unwrap();
    let column_mean = |x: u32| (0..h).map(|y| out[((y * w + x) * 4) as usize] as f32).sum::<f32>() / h as f32;
    for (edge, inner) in [(0, 3), (w - 1, w - 4)] {
        let gap = (column_mean(edge) - column_mean(inner)).abs();
        assert!(gap < 40.0, "column {edge} differs from column {inner} by {gap}");
    }
}

#[test]
fn alpha_is_kept_and_strength_zero_returns_the_photo() {
    let (w, h) = (24, 20);
    let rgba = photo(w, h, |x, _| if x < 8 { 0 } else { 255 });
    let mut styler = styler();
    let styled = styler.stylize(w, h, &rgba, &Options::default()).unwrap();
    assert!(styled.chunks(4).zip(rgba.chunks(4)).all(|(a, b)| a[3] == b[3]));
    let untouched = styler.stylize(w, h, &rgba, &Options { strength: 0.0, ..Options::default() }).unwrap();
    for (a, b) in untouched.chunks(4).zip(rgba.chunks(4)).filter(|(_, b)| b[3] == 255) {
        assert_eq!(a, b);
    }
    assert_ne!(styled, untouched);
}

#[test]
fn a_mix_differs_from_either_style_alone() {
    let (w, h) = (20, 20);
    let rgba = photo(w, h, |_, _| 255);
    let mut styler = styler();
    let run = |styler: &mut Styler, style: StyleSpec| {
        styler.stylize(w, h, &rgba, &Options { style, ..Options::default() }).unwrap()
    };
    let three = run(&mut styler, StyleSpec::Preset(3));
    let twelve = run(&mut styler, StyleSpec::Preset(12));
    let mix = run(&mut styler, "3:0.5,12:0.5".parse().unwrap());
    assert!(mix != three && mix != twelve);
    // Weights are relative: 3:1,12:1 is the same mix.
    assert_eq!(mix, run(&mut styler, "3:1,12:1".parse().unwrap()));
}

#[test]
fn bad_requests_get_typed_errors() {
    let mut styler = styler();
    let ok = photo(16, 16, |_, _| 255);
    let run = |styler: &mut Styler, w: u32, h: u32, rgba: &[u8], options: Options| styler.stylize(w, h, rgba, &options);
    let style = |style: StyleSpec| Options { style, ..Options::default() };
    assert!(matches!(
        run(&mut styler, 16, 16, &ok, style(StyleSpec::Preset(26))),
        Err(Error::StyleIndex { index: 26, count: 26 })
    ));
    for bad in [vec![(3, f32::NAN)], vec![(3, -1.0)], vec![(3, 0.0)], vec![], vec![(2, f32::INFINITY)]] {
        assert!(
            matches!(
                run(&mut styler, 16, 16, &ok, style(StyleSpec::Mix(bad.clone()))),
                Err(Error::StyleWeights { .. })
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        run(&mut styler, 16, 16, &ok, style(StyleSpec::Weights(vec![1.0; 25]))),
        Err(Error::StyleWeights { .. })
    ));
    assert!(matches!(
        run(&mut styler, 16, 16, &ok, style(StyleSpec::Weights(vec![0.0; 26]))),
        Err(Error::StyleWeights { .. })
    ));
    for strength in [-0.1, 1.5, f32::NAN] {
        assert!(matches!(
            run(&mut styler, 16, 16, &ok, Options { strength, ..Options::default() }),
            Err(Error::Strength { .. })
        ));
    }
    let min = styler.model().min_side;
    assert!(
        matches!(run(&mut styler, 0, 0, &[], Options::default()), Err(Error::ImageTooSmall { min_side, .. }) if min_side == min)
    );
    assert!(matches!(run(&mut styler, min - 1, 16, &ok, Options::default()), Err(Error::ImageTooSmall { .. })));
    assert!(matches!(run(&mut styler, 16, 16, &ok[..100], Options::default()), Err(Error::PixelBuffer { .. })));
    let limits = styler.limits();
    assert!(matches!(
        run(&mut styler, limits.max_side + 1, 16, &[], Options::default()),
        Err(Error::ImageTooLarge { .. })
    ));
    let mut tight = Styler::new(Model::builtin().unwrap(), Backend::Cpu)
        .unwrap()
        .with_limits(Limits { max_side: 64, max_pixels: 1000 });
    assert!(matches!(
        tight.stylize(40, 40, &photo(40, 40, |_, _| 255), &Options::default()),
        Err(Error::ImageTooLarge { .. })
    ));
}

#[test]
fn style_specs_parse_like_the_cli_writes_them() {
    assert_eq!("19".parse::<StyleSpec>().unwrap(), StyleSpec::Preset(19));
    assert_eq!("3:0.5, 12:0.5".parse::<StyleSpec>().unwrap(), StyleSpec::Mix(vec![(3, 0.5), (12, 0.5)]));
    assert!("three".parse::<StyleSpec>().is_err());
    assert!("3:x".parse::<StyleSpec>().is_err());
    assert!("-1".parse::<StyleSpec>().is_err());
}

#[test]
fn error_messages_say_what_to_do() {
    let message = Error::ImageTooSmall { width: 3, height: 3, min_side: 5 }.to_string();
    assert!(message.contains("at least 5 pixels"), "{message}");
    let message = Error::StyleIndex { index: 40, count: 26 }.to_string();
    assert!(message.contains("0 to 25"), "{message}");
}

/// Sizes at the edges of the public API are refused with an error, never an overflow (tests run as a debug build,
/// where an overflow panics) nor a wrapped size planned as if it were small.
#[test]
fn sizes_at_the_edges_are_refused_without_overflow() {
    let models = [Model::builtin().unwrap(), Model::builtin_arbitrary().unwrap(), Model::builtin_predictor().unwrap()];
    for model in models {
        let name = model.name.clone();
        let styler = Styler::new(model.clone(), Backend::Cpu).unwrap();
        for (w, h) in [(u32::MAX, u32::MAX), (u32::MAX, 300), (100_000, 100_000), (65_535, 65_535), (8193, 8193)] {
            let plan = styler.tile_plan(w, h);
            assert!(matches!(plan, Err(Error::ImageTooLarge { .. })), "{name} {w}x{h}: {plan:?}");
        }
        // Limits raised to the top: the planner itself must then cope with any size.
        let unlimited =
            Styler::new(model, Backend::Cpu).unwrap().with_limits(Limits { max_side: u32::MAX, max_pixels: u64::MAX });
        for (w, h) in [(u32::MAX, u32::MAX), (u32::MAX, 300), (1 << 20, 1 << 20)] {
            let plan = unlimited.tile_plan(w, h);
            assert!(matches!(plan, Err(Error::ImageTooLarge { .. })), "{name} unlimited {w}x{h}: {plan:?}");
        }
    }
    // The style predictor pools whole planes, so a photo too large to run whole (within the default 2 GiB; a
    // Styler's own limits follow the machine's memory) cannot be cut into tiles.
    let predictor =
        Styler::new(Model::builtin_predictor().unwrap(), Backend::Cpu).unwrap().with_tile_limits(TileLimits::default());
    let plan = predictor.tile_plan(8192, 8192);
    assert!(matches!(plan, Err(Error::ImageTooLarge { .. })), "{plan:?}");
    assert!(predictor.tile_plan(256, 256).is_ok());

    // Zero limits: no tile fits, which is an error, not a division by zero or an endless plan.
    let starved = styler().with_tile_limits(TileLimits { max_buffer: 0, host_budget: 0, tile_budget: 0 });
    for (w, h) in [(512, 512), (8192, 8192), (16, 16)] {
        assert!(starved.tile_plan(w, h).is_err(), "{w}x{h} with zero limits");
    }

    // An empty buffer for the largest size the limits allow, with limits at the top.
    let mut unlimited = styler().with_limits(Limits { max_side: u32::MAX, max_pixels: u64::MAX });
    let styled = unlimited.stylize(u32::MAX, u32::MAX, &[], &Options::default());
    assert!(matches!(styled, Err(Error::ImageTooLarge { .. } | Error::PixelBuffer { .. })), "{styled:?}");
}

#[test]
fn a_forced_tile_side_must_suit_the_network() {
    for side in [0, 1, 3, 6, 65] {
        let refused = styler().with_tile_size(Some(side));
        assert!(matches!(refused, Err(Error::TileSize { multiple: 4, .. })), "tile side {side}");
    }
    let tiled = styler().with_tile_size(Some(64)).unwrap();
    let plan = tiled.tile_plan(256, 256).unwrap();
    assert!(matches!(plan.mode, vitrine::tiling::Mode::Streamed { tile: 64, .. }), "{plan:?}");
    // A 4 px tile on a large photo would list millions of tiles: refused instead.
    let tiny = styler().with_tile_size(Some(4)).unwrap();
    assert!(tiny.tile_plan(8192, 8192).is_err());
}
