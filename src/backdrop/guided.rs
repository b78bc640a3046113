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
/// exist): separable running sums, first along rows, then down columns.
fn box_mean(plane: &[f64], w: usize, h: usize, radius: usize) -> Vec<f64> {
    let mut rows = vec![0.0f64; w * h];
    for (src, dst) in plane.chunks_exact(w).zip(rows.chunks_exact_mut(w)) {
        running_mean(src, dst, radius);
    }
    let (mut column, mut means) = (vec![0.0f64; h], vec![0.0f64; h]);
    let mut out = vec![0.0f64; w * h];
    for x in 0..w {
        for y in 0..h {
            column[y] = rows[y * w + x];
        }
        running_mean(&column, &mut means, radius);
        for y in 0..h {
            out[y * w + x] = means[y];
        }
    }
    out
}

/// The mean of `src[i - radius ..= i + radius]` (clamped to the slice) into `dst[i]`, by a running sum: the
/// window's few values in f64 lose nothing to the additions and subtractions.
fn running_mean(src: &[f64], dst: &mut [f64], radius: usize) {
    let n = src.len();
    let mut sum: f64 = src[..radius.min(n)].iter().sum();
    for i in 0..n {
        if i + radius < n {
            sum += src[i + radius];
        }
        if i > radius {
            sum -= src[i - radius - 1];
        }
        let count = (i + radius + 1).min(n) - i.saturating_sub(radius);
        dst[i] = sum / count as f64;
    }
}

/// A window of the reduced copy: `x, y` its corner, `width x height` its size.
#[derive(Clone, Copy)]
struct Window {
    x: usize,
    y: usize,
    width: usize,
    height: usize,
}

/// The filter's per-pixel linear model `q = a . I + b` over a window of the reduced copy, box-averaged as the
/// filter prescribes, and where it applies: the band around the mask's edges (elsewhere the mask holds as it is).
struct Coefficients {
    a: [Vec<f32>; 3],
    b: Vec<f32>,
    band: Vec<bool>,
}

fn coefficients(reduced: &Reduced, mask: &[f32], window: Window) -> Coefficients {
    let Window { x: wx, y: wy, width: w, height: h } = window;
    let at = |x: usize, y: usize| (wy + y) * reduced.width + wx + x;
    let mean = |plane: &[f64]| box_mean(plane, w, h, RADIUS);
    let channel = |c: usize| (0..w * h).map(|k| f64::from(reduced.rgb[at(k % w, k / w)][c])).collect::<Vec<f64>>();
    let guide = [channel(0), channel(1), channel(2)];
    let p: Vec<f64> = (0..w * h).map(|k| f64::from(mask[at(k % w, k / w)])).collect();
    let mean_i = [mean(&guide[0]), mean(&guide[1]), mean(&guide[2])];
    let mean_p = mean(&p);
    let product = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).collect::<Vec<f64>>();
    let corr_ip: [Vec<f64>; 3] = std::array::from_fn(|c| mean(&product(&guide[c], &p)));
    // The guide's covariance, upper triangle: rr, rg, rb, gg, gb, bb.
    let pairs = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)];
    let corr_ii: Vec<Vec<f64>> = pairs.iter().map(|&(i, j)| mean(&product(&guide[i], &guide[j]))).collect();
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
    let mixed = box_mean(&p, w, h, RADIUS + 1);
    Coefficients {
        a: [to_f32(mean(&a[0])), to_f32(mean(&a[1])), to_f32(mean(&a[2]))],
        b: to_f32(mean(&b)),
        band: mixed.iter().map(|&m| m > 1e-9 && m < 1.0 - 1e-9).collect(),
    }
}

/// The full-size matte, 0..255, from the reduced mask and the full-size photo. The filter runs on the window
/// around the mask's product pixels (wide enough for its windows to see backdrop on every side), and at full size
/// only in the band around the mask's edges: elsewhere whole blocks are product or backdrop.
pub(crate) fn soft_matte(reduced: &Reduced, mask: &[f32], rgba: &[u8], width: usize, height: usize) -> Vec<u8> {
    let (rw, rh, scale) = (reduced.width, reduced.height, reduced.scale);
    let mut alpha = vec![0u8; width * height];
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for (k, _) in mask.iter().enumerate().filter(|(_, &m)| m > 0.0) {
        x0 = x0.min(k % rw);
        y0 = y0.min(k / rw);
        x1 = x1.max(k % rw + 1);
        y1 = y1.max(k / rw + 1);
    }
    if x0 >= x1 {
        return alpha;
    }
    let reach = 2 * RADIUS + 3;
    let (wx, wy) = (x0.saturating_sub(reach), y0.saturating_sub(reach));
    let window = Window { x: wx, y: wy, width: (x1 + reach).min(rw) - wx, height: (y1 + reach).min(rh) - wy };
    let Coefficients { a, b, band } = coefficients(reduced, mask, window);
    let (ww, wh) = (window.width, window.height);
    let inv_scale = 1.0 / scale as f32;
    // Where a full-size coordinate falls between the window's reduced pixel centres: the lower neighbour and the
    // weight of the upper one.
    let lerp = |p: usize, origin: usize, n: usize| {
        let f = ((p as f32 + 0.5) * inv_scale - 0.5 - origin as f32).clamp(0.0, (n - 1) as f32);
        let lo = (f as usize).min(n - 1);
        (lo, (lo + 1).min(n - 1), f - lo as f32)
    };
    for ry in 0..wh {
        let (fy0, fy1) = ((wy + ry) * scale, ((wy + ry + 1) * scale).min(height));
        for rx in 0..ww {
            let (fx0, fx1) = ((wx + rx) * scale, ((wx + rx + 1) * scale).min(width));
            let k = ry * ww + rx;
            if !band[k] {
                // Whole blocks of product or backdrop (the matte starts at 0).
                if mask[(wy + ry) * rw + wx + rx] > 0.5 {
                    for y in fy0..fy1 {
                        alpha[y * width + fx0..y * width + fx1].fill(255);
                    }
                }
                continue;
            }
            for y in fy0..fy1 {
                let (y0, y1, fy) = lerp(y, wy, wh);
                for x in fx0..fx1 {
                    let (x0, x1, fx) = lerp(x, wx, ww);
                    let sample = |plane: &[f32]| {
                        let top = plane[y0 * ww + x0] * (1.0 - fx) + plane[y0 * ww + x1] * fx;
                        let bottom = plane[y1 * ww + x0] * (1.0 - fx) + plane[y1 * ww + x1] * fx;
                        top * (1.0 - fy) + bottom * fy
                    };
                    let px = &rgba[(y * width + x) * 4..][..4];
                    let a_px = f32::from(px[3]) / 255.0;
                    let guide = |c: usize| (f32::from(px[c]) * a_px + 255.0 * (1.0 - a_px)) / 255.0;
                    let q = sample(&a[0]) * guide(0) + sample(&a[1]) * guide(1) + sample(&a[2]) * guide(2) + sample(&b);
                    let value = if q < SNAP {
                        0.0
                    } else if q > 1.0 - SNAP {
                        1.0
                    } else {
                        q
                    };
                    alpha[y * width + x] = (value * 255.0).round() as u8;
                }
            }
        }
    }
    alpha
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_means_are_the_plain_means_of_their_clamped_windows() {
        let (w, h, radius) = (7, 5, 2);
        let plane: Vec<f64> = (0..w * h).map(|i| ((i * 13) % 7) as f64 * 0.1).collect();
        let fast = box_mean(&plane, w, h, radius);
        for y in 0..h {
            for x in 0..w {
                let (ys, xs) = (
                    y.saturating_sub(radius)..(y + radius + 1).min(h),
                    x.saturating_sub(radius)..(x + radius + 1).min(w),
                );
                let plane = &plane;
                let values: Vec<f64> = ys.flat_map(|yy| xs.clone().map(move |xx| plane[yy * w + xx])).collect();
                let plain = values.iter().sum::<f64>() / values.len() as f64;
                assert!((fast[y * w + x] - plain).abs() < 1e-12, "({x}, {y})");
            }
        }
    }
}
