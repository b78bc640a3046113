//! The soft edge: the guided filter (He, Sun and Tang) with the photo's colours as the guide turns the reduced
//! binary mask into a matte that follows the product's own outline, fine hair and anti-aliasing included. Its
//! linear coefficients are found on the reduced copy and applied at full size (the "fast" variant), so the cost is
//! a few multiply-adds per full-size pixel whatever the radius.

use super::matte::Reduced;

/// Window radius, in reduced pixels: wide enough to span a JPEG-softened edge at the reduced size.
const RADIUS: usize = 2;
/// Regularisation: how much colour variation a window needs before the matte follows it (colours in 0..1).
const EPS: f64 = 1e-4;
/// Mattes within this of 0 or 1 are snapped: the filter's small ripples on flat areas are not transparency.
const SNAP: f32 = 0.04;

/// Box means of a `w x h` plane over windows of `radius`, clamped at the edges (each mean over the pixels that
/// exist), through an f64 summed-area table.
fn box_mean(plane: &[f64], w: usize, h: usize, radius: usize) -> Vec<f64> {
    let mut table = vec![0.0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0.0;
        for x in 0..w {
            row += plane[y * w + x];
            table[(y + 1) * (w + 1) + x + 1] = table[y * (w + 1) + x + 1] + row;
        }
    }
    let mut out = vec![0.0f64; w * h];
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(radius), (y + radius + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(radius), (x + radius + 1).min(w));
            let sum = table[y1 * (w + 1) + x1] - table[y0 * (w + 1) + x1] - table[y1 * (w + 1) + x0]
                + table[y0 * (w + 1) + x0];
            out[y * w + x] = sum / ((y1 - y0) * (x1 - x0)) as f64;
        }
    }
    out
}

/// The filter's per-pixel linear model `q = a . I + b` on the reduced copy, box-averaged as the filter prescribes,
/// and where it applies: the band around the mask's edges (elsewhere the mask holds as it is).
struct Coefficients {
    a: [Vec<f32>; 3],
    b: Vec<f32>,
    band: Vec<bool>,
}

fn coefficients(reduced: &Reduced, mask: &[f32]) -> Coefficients {
    let (w, h) = (reduced.width, reduced.height);
    let mean = |plane: Vec<f64>| box_mean(&plane, w, h, RADIUS);
    let channel = |c: usize| reduced.rgb.iter().map(|p| f64::from(p[c])).collect::<Vec<f64>>();
    let guide = [channel(0), channel(1), channel(2)];
    let p: Vec<f64> = mask.iter().map(|&v| f64::from(v)).collect();
    let mean_i = [mean(guide[0].clone()), mean(guide[1].clone()), mean(guide[2].clone())];
    let mean_p = mean(p.clone());
    let product = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).collect::<Vec<f64>>();
    let corr_ip: [Vec<f64>; 3] = std::array::from_fn(|c| mean(product(&guide[c], &p)));
    // The guide's covariance, upper triangle: rr, rg, rb, gg, gb, bb.
    let pairs = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)];
    let corr_ii: Vec<Vec<f64>> = pairs.iter().map(|&(i, j)| mean(product(&guide[i], &guide[j]))).collect();
    let n = w * h;
    let mut a: [Vec<f64>; 3] = std::array::from_fn(|_| vec![0.0; n]);
    let mut b = vec![0.0f64; n];
    for k in 0..n {
        let mi = [mean_i[0][k], mean_i[1][k], mean_i[2][k]];
        let cov_ip: [f64; 3] = std::array::from_fn(|c| corr_ip[c][k] - mi[c] * mean_p[k]);
        let s = |t: usize| corr_ii[t][k] - mi[pairs[t].0] * mi[pairs[t].1];
        let (rr, rg, rb, gg, gb, bb) = (s(0) + EPS, s(1), s(2), s(3) + EPS, s(4), s(5) + EPS);
        // (Sigma + eps I)^-1 cov_ip through the adjugate: Sigma is symmetric positive definite once eps is added.
        let inv = [
            gg * bb - gb * gb,
            gb * rb - rg * bb,
            rg * gb - gg * rb,
            rr * bb - rb * rb,
            rg * rb - rr * gb,
            rr * gg - rg * rg,
        ];
        let det = rr * inv[0] + rg * inv[1] + rb * inv[2];
        let ak = [
            (inv[0] * cov_ip[0] + inv[1] * cov_ip[1] + inv[2] * cov_ip[2]) / det,
            (inv[1] * cov_ip[0] + inv[3] * cov_ip[1] + inv[4] * cov_ip[2]) / det,
            (inv[2] * cov_ip[0] + inv[4] * cov_ip[1] + inv[5] * cov_ip[2]) / det,
        ];
        for c in 0..3 {
            a[c][k] = ak[c];
        }
        b[k] = mean_p[k] - ak[0] * mi[0] - ak[1] * mi[1] - ak[2] * mi[2];
    }
    let to_f32 = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect::<Vec<f32>>();
    let [a0, a1, a2] = a;
    let mixed = box_mean(&p, w, h, RADIUS + 1);
    Coefficients {
        a: [to_f32(mean(a0)), to_f32(mean(a1)), to_f32(mean(a2))],
        b: to_f32(mean(b)),
        band: mixed.iter().map(|&m| m > 1e-9 && m < 1.0 - 1e-9).collect(),
    }
}

/// The full-size matte, 0..255, from the reduced mask and the full-size photo.
pub(crate) fn soft_matte(reduced: &Reduced, mask: &[f32], rgba: &[u8], width: usize, height: usize) -> Vec<u8> {
    let Coefficients { a, b, band } = coefficients(reduced, mask);
    let (rw, rh, scale) = (reduced.width, reduced.height, reduced.scale);
    let inv_scale = 1.0 / scale as f32;
    // Where each full-size coordinate falls between reduced pixel centres: the lower neighbour and the weight of the
    // upper one.
    let lerp = |p: usize, n: usize| {
        let f = ((p as f32 + 0.5) * inv_scale - 0.5).clamp(0.0, (n - 1) as f32);
        let lo = (f as usize).min(n - 1);
        (lo, (lo + 1).min(n - 1), f - lo as f32)
    };
    let columns: Vec<(usize, usize, f32)> = (0..width).map(|x| lerp(x, rw)).collect();
    let mut alpha = vec![0u8; width * height];
    for y in 0..height {
        let (y0, y1, fy) = lerp(y, rh);
        let ry = (y / scale).min(rh - 1);
        for x in 0..width {
            let rx = (x / scale).min(rw - 1);
            let k = ry * rw + rx;
            let value = if band[k] {
                let (x0, x1, fx) = columns[x];
                let sample = |plane: &[f32]| {
                    let top = plane[y0 * rw + x0] * (1.0 - fx) + plane[y0 * rw + x1] * fx;
                    let bottom = plane[y1 * rw + x0] * (1.0 - fx) + plane[y1 * rw + x1] * fx;
                    top * (1.0 - fy) + bottom * fy
                };
                let px = &rgba[(y * width + x) * 4..][..4];
                let a_px = f32::from(px[3]) / 255.0;
                let guide = |c: usize| (f32::from(px[c]) * a_px + 255.0 * (1.0 - a_px)) / 255.0;
                let q = sample(&a[0]) * guide(0) + sample(&a[1]) * guide(1) + sample(&a[2]) * guide(2) + sample(&b);
                if q < SNAP {
                    0.0
                } else if q > 1.0 - SNAP {
                    1.0
                } else {
                    q
                }
            } else {
                mask[k]
            };
            alpha[y * width + x] = (value * 255.0).round() as u8;
        }
    }
    alpha
}
