//! Style specs (a preset, a mix of presets, a weight vector, a style vector) and the per-norm parameters they turn
//! into, and the portable style-vector file.
//!
//! Instance norm only needs each norm layer's gamma and beta for the chosen style. Mixing the style table rows, or
//! projecting a style vector through each norm's two 1x1 convolutions, is at most a few hundred thousand
//! multiply-adds, done once per style on the CPU; the executors then only normalise with the given parameters, so
//! changing the style never touches a pipeline, and both executors share one implementation of it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::graph::{ConvWeights, Graph, NormAffine, Op};

/// Which style to paint with.
#[derive(Clone, Debug, PartialEq)]
pub enum StyleSpec {
    /// One preset style by index.
    Preset(usize),
    /// Presets with relative weights, e.g. `3:0.5,12:0.5`. Weights are normalised to sum to 1.
    Mix(Vec<(usize, f32)>),
    /// One weight per preset style, normalised to sum to 1.
    Weights(Vec<f32>),
    /// A style vector for the arbitrary-style model (from `vitrine style` or `styleFromImage`).
    Vector(Vec<f32>),
}

impl StyleSpec {
    /// The normalised weight of every preset style, after checking indices and weights.
    pub fn resolve(&self, style_count: usize) -> Result<Vec<f32>> {
        let check = |index: usize| {
            if index < style_count {
                Ok(index)
            } else {
                Err(Error::StyleIndex { index, count: style_count })
            }
        };
        if style_count == 0 {
            return Err(Error::StyleKind {
                reason: "this model paints with a style vector, not a preset; pass a style vector or a style picture"
                    .into(),
            });
        }
        let mut weights = vec![0.0f32; style_count];
        match self {
            StyleSpec::Preset(index) => weights[check(*index)?] = 1.0,
            StyleSpec::Mix(parts) => {
                if parts.is_empty() {
                    return Err(Error::StyleWeights { reason: "the mix names no style".into() });
                }
                for &(index, weight) in parts {
                    check_weight(weight)?;
                    weights[check(index)?] += weight;
                }
            }
            StyleSpec::Weights(given) => {
                if given.len() != style_count {
                    return Err(Error::StyleWeights {
                        reason: format!("{} weights given, the model has {style_count} styles", given.len()),
                    });
                }
                for &weight in given {
                    check_weight(weight)?;
                }
                weights.copy_from_slice(given);
            }
            StyleSpec::Vector(_) => {
                return Err(Error::StyleKind {
                    reason:
                        "a style vector needs the arbitrary-style model; with the preset model, pick a preset or a mix"
                            .into(),
                })
            }
        }
        // In f64: weights in range cannot overflow it, and adding them in f32 could lose small ones.
        let total: f64 = weights.iter().map(|&w| f64::from(w)).sum();
        if total <= 0.0 {
            return Err(Error::StyleWeights { reason: "the weights add up to zero".into() });
        }
        weights.iter_mut().for_each(|w| *w = (f64::from(*w) / total) as f32);
        Ok(weights)
    }
}

/// The largest weight in a mix or blend. Weights are relative, so this leaves every useful ratio, and a sum of
/// any number of them stays far inside f64.
pub(crate) const MAX_STYLE_WEIGHT: f32 = 1e6;

/// The largest magnitude of a style vector's component. A picture's vector stays within about 3; far beyond, the
/// norm parameters it projects to overflow and the image comes out black.
pub(crate) const MAX_VECTOR_COMPONENT: f32 = 100.0;

/// Checks one weight of a mix or blend: a finite number from 0 to `MAX_STYLE_WEIGHT`.
pub fn check_weight(weight: f32) -> Result<()> {
    if !weight.is_finite() {
        return Err(Error::StyleWeights { reason: format!("weight {weight} is not a number") });
    }
    if weight < 0.0 {
        return Err(Error::StyleWeights { reason: format!("weight {weight} is negative") });
    }
    if weight > MAX_STYLE_WEIGHT {
        return Err(Error::StyleWeights {
            reason: format!("weight {weight} is beyond the range 0 to {MAX_STYLE_WEIGHT}"),
        });
    }
    Ok(())
}

impl FromStr for StyleSpec {
    type Err = Error;

    /// `7` (one preset) or `3:0.5,12:0.5` (a mix; a part without `:w` weighs 1).
    fn from_str(text: &str) -> Result<Self> {
        let bad = |part: &str| Error::StyleWeights { reason: format!("`{part}` is not INDEX or INDEX:WEIGHT") };
        let text = text.trim();
        if let Ok(index) = text.parse::<usize>() {
            return Ok(StyleSpec::Preset(index));
        }
        let mut parts = Vec::new();
        for part in text.split(',').map(str::trim) {
            let (index, weight) = match part.split_once(':') {
                Some((i, w)) => (i.trim(), w.trim().parse::<f32>().map_err(|_| bad(part))?),
                None => (part, 1.0),
            };
            parts.push((index.parse::<usize>().map_err(|_| bad(part))?, weight));
        }
        Ok(StyleSpec::Mix(parts))
    }
}

impl fmt::Display for StyleSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StyleSpec::Preset(index) => write!(f, "{index}"),
            StyleSpec::Mix(parts) => {
                let text: Vec<String> = parts.iter().map(|(i, w)| format!("{i}:{w}")).collect();
                f.write_str(&text.join(","))
            }
            StyleSpec::Weights(weights) => {
                let text: Vec<String> = weights.iter().map(|w| format!("{w}")).collect();
                write!(f, "[{}]", text.join(","))
            }
            StyleSpec::Vector(vector) => write!(f, "style vector of {}", vector.len()),
        }
    }
}

/// Every norm layer's gamma then beta, laid out at `InstanceNorm::params_offset`. The GPU uploads it as one buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct StyleParams(pub Vec<f32>);

impl StyleParams {
    /// Mixes each norm's style table with normalised style weights (from `StyleSpec::resolve`).
    pub fn mix(graph: &Graph, weights: &[f32]) -> Self {
        let mut params = vec![0.0f32; graph.style_params_len()];
        for node in graph.nodes() {
            let Op::InstanceNorm(norm) = &node.op else { continue };
            let NormAffine::StyleTable { gamma, beta } = &norm.affine else { continue };
            let c = norm.channels;
            let (gamma_out, beta_out) = params[norm.params_offset..norm.params_offset + 2 * c].split_at_mut(c);
            for (style, &weight) in weights.iter().enumerate().filter(|(_, &w)| w != 0.0) {
                for channel in 0..c {
                    gamma_out[channel] += weight * gamma[style * c + channel];
                    beta_out[channel] += weight * beta[style * c + channel];
                }
            }
        }
        StyleParams(params)
    }

    /// Projects a checked style vector (see `check_vector`) through each norm's gamma and beta convolutions.
    pub fn project(graph: &Graph, vector: &[f32]) -> Self {
        let mut params = vec![0.0f32; graph.style_params_len()];
        for node in graph.nodes() {
            let Op::InstanceNorm(norm) = &node.op else { continue };
            let NormAffine::FromVector { gamma, beta } = &norm.affine else { continue };
            let c = norm.channels;
            let (gamma_out, beta_out) = params[norm.params_offset..norm.params_offset + 2 * c].split_at_mut(c);
            project_into(gamma, vector, gamma_out);
            project_into(beta, vector, beta_out);
        }
        StyleParams(params)
    }

    /// This norm's gamma and beta.
    pub(crate) fn norm(&self, offset: usize, channels: usize) -> (&[f32], &[f32]) {
        self.0[offset..offset + 2 * channels].split_at(channels)
    }
}

/// `out = W v + b` for a 1x1 convolution `W` over a vector, in f64 so the order of the sum does not matter.
fn project_into(weights: &ConvWeights, vector: &[f32], out: &mut [f32]) {
    let taps = weights.taps();
    for (channel, value) in out.iter_mut().enumerate() {
        let row = &weights.quantised[channel * taps..(channel + 1) * taps];
        let sum: f64 = row.iter().zip(vector).map(|(&q, &v)| f64::from(q) * f64::from(v)).sum();
        let bias = weights.bias.as_ref().map_or(0.0, |b| f64::from(b[channel]));
        *value = (sum * f64::from(weights.scales[channel]) + bias) as f32;
    }
}

/// Checks a style vector against a model that takes vectors of `length`.
pub fn check_vector(vector: &[f32], length: usize) -> Result<()> {
    if vector.len() != length {
        return Err(Error::StyleVector {
            reason: format!("it has {} numbers, this model takes {length}", vector.len()),
        });
    }
    if let Some(bad) = vector.iter().find(|v| !v.is_finite()) {
        return Err(Error::StyleVector { reason: format!("it holds {bad}, not a finite number") });
    }
    if let Some((index, bad)) = vector.iter().enumerate().find(|(_, v)| v.abs() > MAX_VECTOR_COMPONENT) {
        return Err(Error::StyleVector {
            reason: format!(
                "number {index} is {bad}, beyond the range -{MAX_VECTOR_COMPONENT} to {MAX_VECTOR_COMPONENT}"
            ),
        });
    }
    Ok(())
}

/// The format name written into style-vector files.
pub(crate) const STYLE_FILE_FORMAT: &str = "vitrine-style";
/// The style-vector file version this build writes and reads.
pub(crate) const STYLE_FILE_VERSION: u32 = 1;

/// A style vector as a portable file: a few hundred bytes of JSON a shop computes once and ships.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StyleFile {
    pub format: String,
    pub version: u32,
    /// The model the vector is for.
    pub model: String,
    pub vector: Vec<f32>,
}

impl StyleFile {
    pub fn new(model: &str, vector: Vec<f32>) -> Self {
        StyleFile { format: STYLE_FILE_FORMAT.into(), version: STYLE_FILE_VERSION, model: model.into(), vector }
    }

    pub fn to_json(&self) -> String {
        // Serialising plain numbers and strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a style file and checks its format, version and numbers (the length is checked against the model
    /// when it is used).
    pub fn from_json(text: &str) -> Result<Self> {
        let bad = |reason: String| Error::StyleVector { reason };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("the file is not JSON ({e})")))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(STYLE_FILE_FORMAT) {
            return Err(bad(format!("the file is not a `{STYLE_FILE_FORMAT}` file")));
        }
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(STYLE_FILE_VERSION) => {}
            Some(v) => {
                return Err(bad(format!("the file has version {v}, this build reads version {STYLE_FILE_VERSION}")))
            }
            None => return Err(bad("the file has no version".into())),
        }
        // Non-finite numbers are not JSON, so serde rejects them here with the position.
        let file: StyleFile =
            serde_json::from_value(value).map_err(|e| bad(format!("the file does not parse ({e})")))?;
        if let Some(bad_value) = file.vector.iter().find(|v| !v.is_finite()) {
            return Err(bad(format!("it holds {bad_value}, not a finite number")));
        }
        Ok(file)
    }
}

/// A weighted blend of style vectors (weights normalised to sum to 1): mixing two brand styles, say.
pub fn blend_vectors(parts: &[(&[f32], f32)]) -> Result<Vec<f32>> {
    let Some(((first, _), _)) = parts.split_first() else {
        return Err(Error::StyleVector { reason: "the blend names no vector".into() });
    };
    if parts.iter().any(|(v, _)| v.len() != first.len()) {
        return Err(Error::StyleVector { reason: "blended vectors need one length".into() });
    }
    for (vector, weight) in parts {
        check_weight(*weight).map_err(|e| match e {
            Error::StyleWeights { reason } => Error::StyleVector { reason },
            other => other,
        })?;
        check_vector(vector, first.len())?;
    }
    // In f64, so large weights neither overflow the sum nor swamp small ones.
    let total: f64 = parts.iter().map(|(_, w)| f64::from(*w)).sum();
    if total <= 0.0 {
        return Err(Error::StyleVector { reason: "the blend's weights add up to zero".into() });
    }
    let mut out = vec![0.0f64; first.len()];
    for (vector, weight) in parts {
        for (o, v) in out.iter_mut().zip(vector.iter()) {
            *o += f64::from(*v) * f64::from(*weight) / total;
        }
    }
    Ok(out.into_iter().map(|v| v as f32).collect())
}

/// Magenta's strength: `strength * style + (1 - strength) * own`, where `own` is the photo's own style vector.
pub fn interpolate_vectors(style: &[f32], own: &[f32], strength: f32) -> Vec<f32> {
    style.iter().zip(own).map(|(s, o)| strength * s + (1.0 - strength) * o).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_weights_are_refused_naming_the_range_not_summed_to_zero() {
        let spec: StyleSpec = "0:3e38,1:3e38".parse().unwrap();
        let message = spec.resolve(26).unwrap_err().to_string();
        assert!(message.contains("beyond the range 0 to 1000000"), "{message}");
        assert!(!message.contains("add up to zero"), "{message}");
    }

    #[test]
    fn weights_in_range_sum_in_f64() {
        let weights = StyleSpec::Mix(vec![(0, 1e6), (1, 1e6), (2, 1e-6)]).resolve(26).unwrap();
        assert!((weights[0] - 0.5).abs() < 1e-6 && (weights[1] - 0.5).abs() < 1e-6, "{weights:?}");
        assert!(weights[2] > 0.0, "a small weight beside large ones was lost");
        assert!(StyleSpec::Weights(vec![MAX_STYLE_WEIGHT; 26]).resolve(26).is_ok());
    }

    #[test]
    fn vector_components_beyond_the_range_are_refused() {
        let mut vector = vec![0.5f32; 100];
        assert!(check_vector(&vector, 100).is_ok());
        vector[7] = 1e30;
        let message = check_vector(&vector, 100).unwrap_err().to_string();
        assert!(message.contains("number 7 is 1000000000000000000000000000000"), "{message}");
        assert!(message.contains("beyond the range -100 to 100"), "{message}");
        assert!(check_vector(&[3e38; 100], 100).is_err());
        assert!(check_vector(&[-MAX_VECTOR_COMPONENT; 100], 100).is_ok());
    }

    #[test]
    fn blends_check_weights_and_vectors_and_sum_in_f64() {
        let (a, b) = (vec![1.0f32; 4], vec![3.0f32; 4]);
        assert_eq!(blend_vectors(&[(&a, 1e6), (&b, 1e6)]).unwrap(), vec![2.0; 4]);
        let message = blend_vectors(&[(&a, 3e38), (&b, 3e38)]).unwrap_err().to_string();
        assert!(message.contains("beyond the range 0 to 1000000"), "{message}");
        let huge = vec![1e30f32; 4];
        let message = blend_vectors(&[(&a, 1.0), (&huge, 1.0)]).unwrap_err().to_string();
        assert!(message.contains("beyond the range -100 to 100"), "{message}");
        assert!(blend_vectors(&[(&a, 0.0), (&b, 0.0)]).unwrap_err().to_string().contains("add up to zero"));
    }
}
