use crate::graph::Tensor;

/// Instance norm over each channel's whole plane, then the style's scale and shift:
/// `(x - mean) / sqrt(var + eps) * gamma + beta`, with the population variance.
pub fn instance_norm(x: &mut Tensor, gamma: &[f32], beta: &[f32], eps: f32) {
    let plane = x.shape.plane();
    for (c, values) in x.data.chunks_exact_mut(plane).enumerate() {
        let n = plane as f64;
        let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        let scale = gamma[c] as f64 / (var + eps as f64).sqrt();
        let shift = beta[c] as f64 - mean * scale;
        values.iter_mut().for_each(|v| *v = (*v as f64 * scale + shift) as f32);
    }
}
