//! Soak: 1000 `Styler` calls natively (presets, mixes, weight vectors, style vectors at full and lower strength,
//! pictures to vectors, streamed tiles) with resident memory recorded at call 50 (after warm-up) and at the end,
//! and asserted flat. Ignored in `cargo test` for its time; `make soak-test` runs it (`make soak` with more calls
//! and larger images: SOAK_CALLS, SOAK_SIDE).
//!
//!     cargo test --test soak -- --ignored --nocapture

use vitrine::{Backend, Model, Options, StyleSpec, Styler};

const WARM_UP: usize = 50;
/// Resident memory may move by allocator noise (per-thread arenas, the CPU path's buffer pool settling; 0.01 MiB
/// measured), not by a leak: 2 MiB over 950 calls is about one 24 px RGBA result (2.3 KB) kept per call.
const MAX_RSS_GROWTH: u64 = 2 << 20;

fn env_or(name: &str, fallback: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(fallback)
}

/// Resident set size from /proc/self/statm (Linux), in bytes.
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("resident pages");
    pages * 4096
}

fn photo(width: u32, height: u32, seed: u32) -> Vec<u8> {
    (0..width * height)
        .flat_map(|i| {
            let (x, y) = (i % width, i / width);
            [(x * 37 + seed * 11) as u8, (y * 53 + seed * 7) as u8, ((x ^ y) * 29 + seed) as u8, 255]
        })
        .collect()
}

#[test]
#[ignore = "1000 calls: run by make soak-test"]
fn thousand_calls_keep_resident_memory_flat() {
    let calls = env_or("SOAK_CALLS", 1000);
    let side = env_or("SOAK_SIDE", 24) as u32;
    let mut presets = Styler::new(Model::builtin().unwrap(), Backend::Cpu).unwrap();
    let mut tiled = Styler::new(Model::builtin().unwrap(), Backend::Cpu).unwrap().with_tile_size(Some(12)).unwrap();
    let mut vectors = Styler::new(Model::builtin_arbitrary().unwrap(), Backend::Cpu)
        .unwrap()
        .with_predictor(Model::builtin_predictor().unwrap())
        .unwrap();
    let images = [(side, side, photo(side, side, 1)), (side - 4, side - 8, photo(side - 4, side - 8, 2))];
    let brand = vectors.style_vector(side, side, &images[0].2).unwrap();
    let scaled: Vec<f32> = brand.iter().enumerate().map(|(i, v)| v * (0.8 + (i % 5) as f32 * 0.1)).collect();

    let mut at_warm_up = 0;
    for n in 0..calls {
        let (width, height, rgba) = &images[n % 2];
        let strength = [1.0, 0.8, 0.5, 0.25][n % 4];
        let (styler, style, strength) = match n % 10 {
            0 | 1 => (&mut presets, StyleSpec::Preset(n % 26), strength),
            2 => (&mut presets, StyleSpec::Mix(vec![(n % 26, 0.5), ((n * 7 + 3) % 26, 0.7)]), strength),
            3 => (&mut presets, StyleSpec::Weights((0..26).map(|i| ((i * n) % 5) as f32 + 0.1).collect()), 1.0),
            4 => (&mut tiled, StyleSpec::Preset((n * 3) % 26), strength),
            5 => (&mut vectors, StyleSpec::Vector(brand.clone()), 1.0),
            6 => (&mut vectors, StyleSpec::Vector(scaled.clone()), 0.5),
            7 => {
                // A picture to a style vector, as `vitrine style` and styleFromImage make them.
                let vector = vectors.style_vector(*width, *height, rgba).unwrap();
                assert_eq!(vector.len(), brand.len());
                continue;
            }
            8 => (&mut presets, StyleSpec::Preset(n % 26), 1.0),
            _ => (
                &mut vectors,
                StyleSpec::Vector(vitrine::style::blend_vectors(&[(&brand, 0.7), (&scaled, 0.3)]).unwrap()),
                1.0,
            ),
        };
        let options = Options { style, strength, preserve_color: n % 3 == 0, ..Options::default() };
        let styled = styler.stylize(*width, *height, rgba, &options).unwrap();
        assert_eq!(styled.len(), rgba.len(), "call {n}");
        if n + 1 == WARM_UP {
            at_warm_up = resident_bytes();
        }
    }
    let at_end = resident_bytes();
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!(
        "{calls} calls of {side} px on the CPU: resident {:.2} MiB at call {WARM_UP}, {:.2} MiB at call {calls} (bound +{:.0} MiB)",
        mib(at_warm_up),
        mib(at_end),
        mib(MAX_RSS_GROWTH)
    );
    assert!(
        at_end <= at_warm_up + MAX_RSS_GROWTH,
        "resident memory grew from {:.2} MiB to {:.2} MiB",
        mib(at_warm_up),
        mib(at_end)
    );
}
