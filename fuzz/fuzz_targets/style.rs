//! Style input from users: style files (`StyleFile::from_json`), `--style` specs (`StyleSpec::from_str` then
//! `resolve`), raw weight and style vectors (`resolve`, `check_vector`, `blend_vectors`, `interpolate_vectors`)
//! and whole requests (`Styler::check`, which validates size, buffer, style and strength before any work).
//! Each must answer with a value or an error, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vitrine::style::{blend_vectors, check_vector, interpolate_vectors};
use vitrine::{Background, Backend, Model, Options, StyleFile, StyleSpec, Styler};

const PRESETS: usize = 26;
const VECTOR: usize = 100;

fn presets() -> &'static Styler {
    static STYLER: OnceLock<Styler> = OnceLock::new();
    STYLER.get_or_init(|| Styler::new(Model::builtin().expect("built-in model"), Backend::Cpu).expect("CPU styler"))
}

fn transformer() -> &'static Styler {
    static STYLER: OnceLock<Styler> = OnceLock::new();
    STYLER.get_or_init(|| {
        Styler::new(Model::builtin_arbitrary().expect("built-in transformer"), Backend::Cpu).expect("CPU styler")
    })
}

fn floats(data: &[u8]) -> Vec<f32> {
    data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    let mut bytes = [0u8; 4];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = data.get(at + i).copied().unwrap_or(0);
    }
    u32::from_le_bytes(bytes)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(file) = StyleFile::from_json(&text) {
        let _ = check_vector(&file.vector, VECTOR);
        // What a file reads back as must write and read again as itself.
        let again = StyleFile::from_json(&file.to_json()).expect("a style file's own JSON reads back");
        assert_eq!(again, file);
    }
    let spec = text.parse::<StyleSpec>();
    if let Ok(spec) = &spec {
        let _ = spec.resolve(PRESETS);
        let _ = spec.resolve(0);
        let _ = spec.resolve(1);
    }

    let numbers = floats(data);
    let _ = StyleSpec::Weights(numbers.clone()).resolve(PRESETS);
    let _ = StyleSpec::Weights(numbers.clone()).resolve(numbers.len());
    let _ = check_vector(&numbers, VECTOR);
    let _ = check_vector(&numbers, numbers.len());
    let half = numbers.len() / 2;
    let (first, second) = numbers.split_at(half);
    let weights = (numbers.first().copied().unwrap_or(1.0), numbers.last().copied().unwrap_or(1.0));
    let _ = blend_vectors(&[(first, weights.0), (&second[..half], weights.1)]);
    let _ = blend_vectors(&[(first, weights.0)]);
    let _ = interpolate_vectors(first, &second[..half], weights.0);

    // A whole request: size, pixel buffer, style, strength. Small sizes get a buffer of the right length.
    let (width, height) = (u32_at(data, 0), u32_at(data, 4));
    let strength = numbers.get(2).copied().unwrap_or(1.0);
    let pixels = (width as u64).saturating_mul(height as u64).saturating_mul(4);
    let rgba = vec![128u8; if pixels <= 1 << 16 { pixels as usize } else { 16 }];
    let style = spec.unwrap_or_else(|_| StyleSpec::Weights(numbers.clone()));
    let background = Background::ALL[data.len() % Background::ALL.len()];
    let options = Options { style, strength, preserve_color: data.len() % 2 == 1, background };
    let _ = presets().check(width, height, &rgba, &options);
    let vector = Options { style: StyleSpec::Vector(numbers), strength, preserve_color: false, background };
    let _ = transformer().check(width, height, &rgba, &vector);
});
