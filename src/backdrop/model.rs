//! The backdrop's colour as a smooth function of position, fitted to the photo's border: a studio sweep is plain by
//! construction, but lit unevenly (a gentle gradient, a vignette), so one constant colour would not do.

use super::colour::Lab;

/// Terms of the fitted surface at normalised coordinates `u, v` in -1..1: a quadratic, which follows a vertical
/// or horizontal gradient and a vignette's fall-off while staying too stiff to follow a product into the frame.
const TERMS: usize = 6;

fn terms(u: f32, v: f32) -> [f64; TERMS] {
    let (u, v) = (f64::from(u), f64::from(v));
    [1.0, u, v, u * u, v * v, u * v]
}

/// The fitted backdrop: each Lab channel a quadratic in position.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BackdropModel {
    coefficients: [[f64; TERMS]; 3],
    width: usize,
    height: usize,
}

impl BackdropModel {
    /// A model that is `colour` everywhere.
    pub(crate) fn constant(colour: Lab, width: usize, height: usize) -> Self {
        let mut coefficients = [[0.0; TERMS]; 3];
        coefficients[0][0] = f64::from(colour.l);
        coefficients[1][0] = f64::from(colour.a);
        coefficients[2][0] = f64::from(colour.b);
        BackdropModel { coefficients, width, height }
    }

    /// Least squares over the pixels `at` (indices into a `width x height` Lab image), or `None` when they cannot
    /// pin the surface down (too few, or all on one line).
    pub(crate) fn fit(lab: &[Lab], width: usize, height: usize, at: &[usize]) -> Option<Self> {
        if at.len() < 4 * TERMS {
            return None;
        }
        let mut normal = [[0.0f64; TERMS]; TERMS];
        let mut rhs = [[0.0f64; TERMS]; 3];
        for &i in at {
            let (u, v) = normalised(i % width, i / width, width, height);
            let t = terms(u, v);
            let p = lab[i];
            for r in 0..TERMS {
                for c in 0..TERMS {
                    normal[r][c] += t[r] * t[c];
                }
                rhs[0][r] += t[r] * f64::from(p.l);
                rhs[1][r] += t[r] * f64::from(p.a);
                rhs[2][r] += t[r] * f64::from(p.b);
            }
        }
        let coefficients = [solve(normal, rhs[0])?, solve(normal, rhs[1])?, solve(normal, rhs[2])?];
        Some(BackdropModel { coefficients, width, height })
    }

    /// The backdrop's colour at pixel `(x, y)`.
    pub(crate) fn at(&self, x: usize, y: usize) -> Lab {
        let (u, v) = normalised(x, y, self.width, self.height);
        let t = terms(u, v);
        let channel = |c: &[f64; TERMS]| c.iter().zip(&t).map(|(a, b)| a * b).sum::<f64>() as f32;
        Lab { l: channel(&self.coefficients[0]), a: channel(&self.coefficients[1]), b: channel(&self.coefficients[2]) }
    }
}

impl BackdropModel {
    /// The backdrop's colour at every pixel, row by row: per row the quadratic in `u` has three coefficients.
    pub(crate) fn surface(&self) -> Vec<Lab> {
        let (w, h) = (self.width, self.height);
        let columns: Vec<f64> = (0..w).map(|x| f64::from(normalised(x, 0, w, h).0)).collect();
        let mut out = Vec::with_capacity(w * h);
        for y in 0..h {
            let v = f64::from(normalised(0, y, w, h).1);
            // [1, u, v, u², v², uv] · c = (c0 + c2 v + c4 v²) + (c1 + c5 v) u + c3 u².
            let row = |c: &[f64; TERMS]| (c[0] + c[2] * v + c[4] * v * v, c[1] + c[5] * v, c[3]);
            let [l, a, b] = [row(&self.coefficients[0]), row(&self.coefficients[1]), row(&self.coefficients[2])];
            out.extend(columns.iter().map(|&u| {
                let at = |(k0, k1, k2): (f64, f64, f64)| (k0 + k1 * u + k2 * u * u) as f32;
                Lab { l: at(l), a: at(a), b: at(b) }
            }));
        }
        out
    }
}

fn normalised(x: usize, y: usize, width: usize, height: usize) -> (f32, f32) {
    let along = |p: usize, n: usize| if n > 1 { 2.0 * p as f32 / (n - 1) as f32 - 1.0 } else { 0.0 };
    (along(x, width), along(y, height))
}

/// Gaussian elimination with partial pivoting; `None` for a (nearly) singular system.
fn solve(mut a: [[f64; TERMS]; TERMS], mut b: [f64; TERMS]) -> Option<[f64; TERMS]> {
    let scale = a.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
    for col in 0..TERMS {
        let pivot = (col..TERMS).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() <= 1e-12 * scale {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col];
        for row in col + 1..TERMS {
            let f = a[row][col] / pivot_row[col];
            for (value, above) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *value -= f * above;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0f64; TERMS];
    for row in (0..TERMS).rev() {
        let rest: f64 = (row + 1..TERMS).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - rest) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vignette_on_the_border_is_followed_inside() {
        let (w, h) = (60, 40);
        let truth = |x: usize, y: usize| {
            let (u, v) = normalised(x, y, w, h);
            Lab { l: 95.0 - 6.0 * (u * u + v * v) + 2.0 * v, a: 1.0, b: -2.0 + 0.5 * u }
        };
        let lab: Vec<Lab> = (0..w * h).map(|i| truth(i % w, i / w)).collect();
        let border: Vec<usize> =
            (0..w * h).filter(|&i| i % w < 3 || i % w >= w - 3 || i / w < 3 || i / w >= h - 3).collect();
        let model = BackdropModel::fit(&lab, w, h, &border).unwrap();
        let centre = model.at(w / 2, h / 2);
        assert!(centre.distance(truth(w / 2, h / 2)) < 1e-3, "{centre:?}");
        let surface = model.surface();
        assert!((0..w * h).all(|i| surface[i].distance(model.at(i % w, i / w)) < 1e-3));
    }

    #[test]
    fn too_few_points_fit_nothing() {
        let lab = vec![Lab::default(); 100];
        assert!(BackdropModel::fit(&lab, 10, 10, &[0, 1, 2]).is_none());
        // All on one row: the vertical terms are not pinned down.
        assert!(BackdropModel::fit(&lab, 10, 10, &(0..10).collect::<Vec<_>>()).is_none());
    }
}
