//! The graph description stored as JSON in the model's metadata, exactly as `models/convert.py` writes it.

use serde::Deserialize;

use super::{FORMAT_NAME, FORMAT_VERSION, OLDEST_FORMAT_VERSION};
use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
pub(super) struct Description {
    /// One of the versions `parse` accepts; it decides which tensor dtypes the file may use.
    pub version: u64,
    pub name: String,
    pub input: InputDescription,
    pub style: StyleDescription,
    pub output: String,
    pub nodes: Vec<NodeDescription>,
}

#[derive(Debug, Deserialize)]
pub(super) struct InputDescription {
    pub name: String,
    pub channels: usize,
    /// `[height, width]` the network is meant to run at (the style predictor); absent when any size works.
    #[serde(default)]
    pub size: Option<[usize; 2]>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum StyleDescription {
    /// Conditional instance norm over `count` preset styles.
    PresetMix { count: usize },
    /// Norm parameters computed from a style vector of `length` numbers.
    StyleVector { length: usize },
    /// No style input (the style predictor).
    None,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum PadModeDescription {
    Reflect,
    Zero,
}

/// `pad` is one number for all four sides, or `[top, left, bottom, right]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum PadDescription {
    Uniform(usize),
    Sides([usize; 4]),
}

/// A 1x1 convolution of the style vector: int8 weights `[channels, length, 1, 1]`, scales and bias `[channels]`.
#[derive(Debug, Deserialize)]
pub(super) struct ProjectionDescription {
    pub weight: String,
    pub weight_scale: String,
    pub bias: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum AffineDescription {
    StyleTable { gamma: String, beta: String },
    FromVector { gamma: ProjectionDescription, beta: ProjectionDescription },
}

#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(super) enum NodeDescription {
    Conv2d {
        name: String,
        input: String,
        output: String,
        weight: String,
        weight_scale: String,
        bias: Option<String>,
        stride: usize,
        pad: PadDescription,
        pad_mode: PadModeDescription,
        groups: usize,
    },
    InstanceNorm {
        name: String,
        input: String,
        output: String,
        eps: f32,
        affine: AffineDescription,
    },
    Relu {
        input: String,
        output: String,
    },
    Sigmoid {
        input: String,
        output: String,
    },
    Clip {
        input: String,
        output: String,
        min: f32,
        max: f32,
    },
    GlobalAvgPool {
        input: String,
        output: String,
    },
    Add {
        inputs: [String; 2],
        output: String,
    },
    UpsampleNearest {
        input: String,
        output: String,
        factor: usize,
    },
}

/// The format name and version are checked before the rest, so a newer file gets a version error, not a parse error.
pub(super) fn parse(text: &str) -> Result<Description> {
    #[derive(Deserialize)]
    struct Header {
        format: String,
        version: u64,
    }
    let header: Header =
        serde_json::from_str(text).map_err(|e| Error::format(format!("the graph description is not readable: {e}")))?;
    if header.format != FORMAT_NAME {
        return Err(Error::format(format!("format `{}` is not `{FORMAT_NAME}`", header.format)));
    }
    if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&header.version) {
        return Err(Error::ModelVersion { found: header.version, supported: FORMAT_VERSION });
    }
    serde_json::from_str(text).map_err(|e| Error::graph(format!("the graph description does not parse: {e}")))
}
