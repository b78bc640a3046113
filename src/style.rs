//! Style specs (a preset, a mix of presets, a weight vector) and the per-norm parameters they turn into.
//!
//! Conditional instance norm only needs each norm layer's gamma and beta for the chosen style. Mixing the style
//! table rows is a few thousand multiply-adds, done once per style on the CPU; the executors then only normalise
//! with the given parameters, so changing the mix never touches a pipeline.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::graph::{Graph, NormAffine, Op};

/// Which style to paint with.
#[derive(Clone, Debug, PartialEq)]
pub enum StyleSpec {
    /// One preset style by index.
    Preset(usize),
    /// Presets with relative weights, e.g. `3:0.5,12:0.5`. Weights are normalised to sum to 1.
    Mix(Vec<(usize, f32)>),
    /// One weight per preset style, normalised to sum to 1.
    Weights(Vec<f32>),
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
        }
        let total: f32 = weights.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err(Error::StyleWeights { reason: "the weights add up to zero".into() });
        }
        weights.iter_mut().for_each(|w| *w /= total);
        Ok(weights)
    }
}

fn check_weight(weight: f32) -> Result<()> {
    if !weight.is_finite() {
        return Err(Error::StyleWeights { reason: format!("weight {weight} is not a number") });
    }
    if weight < 0.0 {
        return Err(Error::StyleWeights { reason: format!("weight {weight} is negative") });
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
        }
    }
}

/// Every norm layer's gamma then beta, laid out at `InstanceNorm::params_offset`. The GPU uploads it as one buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct StyleParams(pub Vec<f32>);

impl StyleParams {
    /// Mixes each norm's style table with normalised style weights (from `StyleSpec::resolve`).
    pub fn mix(graph: &Graph, weights: &[f32]) -> Self {
        let mut params = vec![0.0f32; graph.style_params_len];
        for node in &graph.nodes {
            let Op::InstanceNorm(norm) = &node.op else { continue };
            let NormAffine::StyleTable { gamma, beta } = &norm.affine;
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

    /// This norm's gamma and beta.
    pub fn norm(&self, offset: usize, channels: usize) -> (&[f32], &[f32]) {
        self.0[offset..offset + 2 * channels].split_at(channels)
    }
}
