//! CIELAB from sRGB bytes, the perceptual space the backdrop is told apart in. Written with `libm` and plain f32
//! arithmetic only, so native and wasm builds give the same bits (the platform's `cbrt` and `pow` may differ).

use std::sync::OnceLock;

/// One pixel in CIELAB (D65): lightness 0..100, and the two opponent axes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Lab {
    pub l: f32,
    pub a: f32,
    pub b: f32,
}

impl Lab {
    /// CIE76 colour difference: about 2.3 is the smallest difference a viewer notices side by side.
    pub(crate) fn distance(self, other: Lab) -> f32 {
        let (dl, da, db) = (self.l - other.l, self.a - other.a, self.b - other.b);
        (dl * dl + da * da + db * db).sqrt()
    }
}

/// sRGB's transfer function undone, for each byte value.
fn linear_table() -> &'static [f32; 256] {
    static TABLE: OnceLock<[f32; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|i| {
            let v = i as f32 / 255.0;
            if v <= 0.040_45 {
                v / 12.92
            } else {
                libm::powf((v + 0.055) / 1.055, 2.4)
            }
        })
    })
}

const DELTA: f32 = 6.0 / 29.0;
/// Intervals of the cube-root table over 0..1: the analysis converts every reduced pixel, and a table with linear
/// interpolation is several times faster than `cbrtf` while staying within 0.01 of L*.
const CUBE_ROOT_STEPS: usize = 1024;

/// The cube root at `CUBE_ROOT_STEPS + 2` evenly spaced points of 0..1 (one past the end for the interpolation).
fn cube_root_table() -> &'static [f32] {
    static TABLE: OnceLock<Vec<f32>> = OnceLock::new();
    TABLE.get_or_init(|| (0..CUBE_ROOT_STEPS + 2).map(|i| libm::cbrtf(i as f32 / CUBE_ROOT_STEPS as f32)).collect())
}

/// CIELAB's companding of a white-relative tristimulus value (0..1 for sRGB colours).
fn companded(t: f32) -> f32 {
    if t > DELTA * DELTA * DELTA {
        let table = cube_root_table();
        let at = t.min(1.0) * CUBE_ROOT_STEPS as f32;
        let i = (at as usize).min(CUBE_ROOT_STEPS);
        let f = at - i as f32;
        table[i] + (table[i + 1] - table[i]) * f
    } else {
        t / (3.0 * DELTA * DELTA) + 4.0 / 29.0
    }
}

/// CIELAB of an sRGB colour given as linear-light channels in 0..1.
pub(crate) fn lab_from_linear([r, g, b]: [f32; 3]) -> Lab {
    // sRGB primaries to XYZ, each row divided by the D65 white's own X, Y and Z.
    let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / 0.950_47;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
    let z = (0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b) / 1.088_83;
    let (fx, fy, fz) = (companded(x), companded(y), companded(z));
    Lab { l: 116.0 * fy - 16.0, a: 500.0 * (fx - fy), b: 200.0 * (fy - fz) }
}

/// Linear-light channels of an sRGB byte triple.
pub(crate) fn linear_from_bytes(rgb: [u8; 3]) -> [f32; 3] {
    let table = linear_table();
    rgb.map(|v| table[v as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_black_and_a_known_colour() {
        let white = lab_from_linear(linear_from_bytes([255, 255, 255]));
        assert!((white.l - 100.0).abs() < 0.01 && white.a.abs() < 0.01 && white.b.abs() < 0.01, "{white:?}");
        let black = lab_from_linear(linear_from_bytes([0, 0, 0]));
        assert!(black.l.abs() < 0.01, "{black:?}");
        // sRGB pure red is L 53.24, a 80.09, b 67.20.
        let red = lab_from_linear(linear_from_bytes([255, 0, 0]));
        assert!((red.l - 53.24).abs() < 0.05 && (red.a - 80.09).abs() < 0.1 && (red.b - 67.20).abs() < 0.1, "{red:?}");
    }

    #[test]
    fn the_cube_root_table_is_close_to_the_cube_root() {
        let worst = (1..100_000)
            .map(|i| i as f32 / 100_000.0)
            .filter(|&t| t > DELTA * DELTA * DELTA)
            .map(|t| (companded(t) - libm::cbrtf(t)).abs())
            .fold(0.0f32, f32::max);
        // L* is 116 times this: within 0.01.
        assert!(worst * 116.0 < 0.01, "{worst}");
    }

    #[test]
    fn grey_has_no_chroma_and_a_shadow_keeps_it_low() {
        let light = lab_from_linear(linear_from_bytes([240, 240, 240]));
        let shaded = lab_from_linear(linear_from_bytes([170, 170, 170]));
        assert!(light.a.abs() < 0.01 && light.b.abs() < 0.01 && shaded.a.abs() < 0.01 && shaded.b.abs() < 0.01);
        assert!(light.distance(shaded) > 20.0);
    }
}
