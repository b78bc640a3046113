//! The model file: a safetensors container whose `vitrine` metadata entry describes the graph.
//!
//! Loading checks everything before trusting it: the format name and version, every tensor's dtype and shape
//! against the op that uses it, finite scales and norm parameters, and that the graph runs and returns an image of
//! the input's size. Tensors are read straight from the caller's bytes (safetensors checks every offset against the
//! buffer), so a hostile header cannot make us allocate more than the file itself holds.
//!
//! Format versions: 1 stores every float tensor as f32; 2 (what `models/convert.py` writes) lets a preset network's
//! norm tables be f16, widened exactly to f32 here. Both load.

mod description;
mod manifest;

#[cfg(target_arch = "wasm32")]
pub(crate) use manifest::builtin_styles;
pub use manifest::style_names;

use std::collections::HashMap;

use half::f16;
use safetensors::{Dtype, SafeTensors};

use crate::error::{Error, Result};
use crate::graph::{
    Conv2d, ConvWeights, Graph, InstanceNorm, Node, NormAffine, Op, PadMode, Padding, ValueId, INPUT_VALUE,
};
use description::{
    AffineDescription, Description, NodeDescription, PadDescription, PadModeDescription, ProjectionDescription,
    StyleDescription,
};

/// The newest format this build reads; `models/convert.py` writes the same number.
pub(crate) const FORMAT_VERSION: u64 = 2;
/// The oldest format this build still reads.
pub(crate) const OLDEST_FORMAT_VERSION: u64 = 1;
/// The first format version whose norm tables may be f16 (half the bytes of the preset model's tables).
const F16_TABLES_SINCE: u64 = 2;
/// The `format` field of the description, and the metadata key it is stored under.
pub(crate) const FORMAT_NAME: &str = "vitrine-model";
pub(crate) const METADATA_KEY: &str = "vitrine";

/// The 26-style network that ships with vitrine (see models/NOTICE for its origin and licence).
pub const BUILTIN_MODEL: &[u8] = include_bytes!("../../models/multistyle26.vitrine.safetensors");

/// Magenta's arbitrary-style transformer: any picture's style vector paints a photo (models/NOTICE).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) const BUILTIN_ARBITRARY_MODEL: &[u8] =
    include_bytes!("../../models/arbitrary_transform.vitrine.safetensors");
/// Its style predictor (MobileNetV2): a picture in, a style vector out. 2.5 MB, so the browser fetches it on demand.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) const BUILTIN_PREDICTOR_MODEL: &[u8] = include_bytes!("../../models/arbitrary_predict.vitrine.safetensors");

/// Bounds on values a model file declares, far above any real network, so a hostile file fails fast.
const MAX_STYLES: usize = 4096;
const MAX_KERNEL: usize = 31;
const MAX_STRIDE: usize = 8;
const MAX_UPSAMPLE: usize = 8;
const MAX_VECTOR: usize = 4096;
/// Sides searched for the smallest image the network accepts.
const MAX_MIN_SIDE: usize = 1024;

/// What a network takes as its style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StyleInput {
    /// A mix of this many preset styles (conditional instance norm).
    Presets(usize),
    /// A style vector of this length (from the style predictor).
    Vector(usize),
    /// Nothing: the style predictor itself.
    None,
}

/// A loaded, checked network: a styling network (image in, same-size image out) or the style predictor (image in,
/// vector out).
#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub style_input: StyleInput,
    /// Preset styles (0 for a model without presets).
    pub style_count: usize,
    /// `(height, width)` the network is meant to run at, for the style predictor.
    pub input_size: Option<(usize, usize)>,
    pub graph: Graph,
    /// The smallest width or height the network can style.
    pub min_side: u32,
    /// Images are reflect-padded to a multiple of this before the network and cropped back after.
    pub spatial_multiple: usize,
}

impl Model {
    /// The model compiled into the crate.
    pub fn builtin() -> Result<Self> {
        Self::from_bytes(BUILTIN_MODEL)
    }

    /// The arbitrary-style transformer compiled into the crate (native builds).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn builtin_arbitrary() -> Result<Self> {
        Self::from_bytes(BUILTIN_ARBITRARY_MODEL)
    }

    /// The style predictor compiled into the crate (native builds).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn builtin_predictor() -> Result<Self> {
        Self::from_bytes(BUILTIN_PREDICTOR_MODEL)
    }

    /// Reads and checks a model file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (_, metadata) =
            SafeTensors::read_metadata(bytes).map_err(|e| Error::format(format!("safetensors: {e}")))?;
        let text = metadata
            .metadata()
            .as_ref()
            .and_then(|m| m.get(METADATA_KEY))
            .ok_or_else(|| Error::format(format!("no `{METADATA_KEY}` metadata entry")))?;
        let description = description::parse(text)?;
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| Error::format(format!("safetensors: {e}")))?;
        Self::assemble(&description, &tensors)
    }

    fn assemble(description: &Description, tensors: &SafeTensors<'_>) -> Result<Self> {
        let style_input = match description.style {
            StyleDescription::PresetMix { count } => {
                if count == 0 || count > MAX_STYLES {
                    return Err(Error::graph(format!("{count} styles is outside 1..={MAX_STYLES}")));
                }
                StyleInput::Presets(count)
            }
            StyleDescription::StyleVector { length } => {
                if length == 0 || length > MAX_VECTOR {
                    return Err(Error::graph(format!("a style vector of {length} is outside 1..={MAX_VECTOR}")));
                }
                StyleInput::Vector(length)
            }
            StyleDescription::None => StyleInput::None,
        };
        let style_count = match style_input {
            StyleInput::Presets(count) => count,
            _ => 0,
        };
        if description.input.channels != 3 {
            return Err(Error::graph(format!(
                "the input has {} channels; vitrine feeds RGB",
                description.input.channels
            )));
        }
        let reader = TensorReader { tensors, version: description.version };
        let mut values: HashMap<&str, ValueId> = HashMap::from([(description.input.name.as_str(), INPUT_VALUE)]);
        let value_of = |name: &str, values: &HashMap<&str, ValueId>| {
            values.get(name).copied().ok_or_else(|| Error::graph(format!("`{name}` is read before it is written")))
        };
        let mut nodes = Vec::with_capacity(description.nodes.len());
        let mut style_params_len = 0usize;
        for node in &description.nodes {
            let (name, op, inputs, output) = match node {
                NodeDescription::Conv2d {
                    name,
                    input,
                    output,
                    weight,
                    weight_scale,
                    bias,
                    stride,
                    pad,
                    pad_mode,
                    groups,
                } => {
                    if !(1..=MAX_STRIDE).contains(stride) {
                        return Err(Error::graph(format!("{name}: stride {stride} is outside 1..={MAX_STRIDE}")));
                    }
                    if *groups == 0 {
                        return Err(Error::graph(format!("{name}: groups must be at least 1")));
                    }
                    let weights = reader.conv_weights(name, weight, weight_scale, bias.as_deref())?;
                    if weights.out_channels % groups != 0 {
                        return Err(Error::graph(format!(
                            "{name}: {} outputs do not split into {groups} groups",
                            weights.out_channels
                        )));
                    }
                    let pad = match *pad {
                        PadDescription::Uniform(p) => Padding::uniform(p),
                        PadDescription::Sides([top, left, bottom, right]) => Padding { top, left, bottom, right },
                    };
                    if pad.largest() > weights.kernel_h.max(weights.kernel_w) {
                        return Err(Error::graph(format!("{name}: padding {pad:?} exceeds the kernel")));
                    }
                    let pad_mode = match pad_mode {
                        PadModeDescription::Reflect => PadMode::Reflect,
                        PadModeDescription::Zero => PadMode::Zero,
                    };
                    let conv = Conv2d { weights, stride: *stride, pad, pad_mode, groups: *groups };
                    (name.clone(), Op::Conv2d(conv), vec![value_of(input, &values)?], output)
                }
                NodeDescription::InstanceNorm { name, input, output, eps, affine } => {
                    if !(eps.is_finite() && *eps > 0.0) {
                        return Err(Error::graph(format!("{name}: epsilon {eps} must be positive")));
                    }
                    let (affine, channels, beta_channels) = match (affine, style_input) {
                        (AffineDescription::StyleTable { gamma, beta }, StyleInput::Presets(count)) => {
                            let (gamma, channels) = reader.style_table(gamma, count)?;
                            let (beta, beta_channels) = reader.style_table(beta, count)?;
                            (NormAffine::StyleTable { gamma, beta }, channels, beta_channels)
                        }
                        (AffineDescription::FromVector { gamma, beta }, StyleInput::Vector(length)) => {
                            let gamma = reader.projection(name, gamma, length)?;
                            let beta = reader.projection(name, beta, length)?;
                            let (channels, beta_channels) = (gamma.out_channels, beta.out_channels);
                            (NormAffine::FromVector { gamma, beta }, channels, beta_channels)
                        }
                        _ => {
                            return Err(Error::graph(format!(
                                "{name}: its parameters do not match the model's style input"
                            )))
                        }
                    };
                    if beta_channels != channels {
                        return Err(Error::graph(format!(
                            "{name}: gamma has {channels} channels, beta {beta_channels}"
                        )));
                    }
                    let norm = InstanceNorm { channels, eps: *eps, affine, params_offset: style_params_len };
                    style_params_len += 2 * channels;
                    (name.clone(), Op::InstanceNorm(norm), vec![value_of(input, &values)?], output)
                }
                NodeDescription::Relu { input, output } => {
                    (format!("relu {input}"), Op::Relu, vec![value_of(input, &values)?], output)
                }
                NodeDescription::Sigmoid { input, output } => {
                    (format!("sigmoid {input}"), Op::Sigmoid, vec![value_of(input, &values)?], output)
                }
                NodeDescription::Clip { input, output, min, max } => {
                    if !(min.is_finite() && max.is_finite() && min <= max) {
                        return Err(Error::graph(format!("clip {input}: bounds {min}..{max} are not a range")));
                    }
                    (
                        format!("clip {input}"),
                        Op::Clip { min: *min, max: *max },
                        vec![value_of(input, &values)?],
                        output,
                    )
                }
                NodeDescription::GlobalAvgPool { input, output } => {
                    (format!("global_avg_pool {input}"), Op::GlobalAvgPool, vec![value_of(input, &values)?], output)
                }
                NodeDescription::Add { inputs: [a, b], output } => {
                    (format!("add {a} {b}"), Op::Add, vec![value_of(a, &values)?, value_of(b, &values)?], output)
                }
                NodeDescription::UpsampleNearest { input, output, factor } => {
                    if !(1..=MAX_UPSAMPLE).contains(factor) {
                        return Err(Error::graph(format!("upsample factor {factor} is outside 1..={MAX_UPSAMPLE}")));
                    }
                    let op = Op::UpsampleNearest { factor: *factor };
                    (format!("upsample {input}"), op, vec![value_of(input, &values)?], output)
                }
            };
            let id = values.len();
            if values.insert(output.as_str(), id).is_some() {
                return Err(Error::graph(format!("`{output}` is written twice")));
            }
            nodes.push(Node { name, op, inputs, output: id });
        }
        let output = value_of(&description.output, &values)?;
        let graph = Graph::new(3, nodes, output, style_params_len)?;
        let spatial_multiple = graph.spatial_multiple();
        let input_size = description.input.size.map(|[h, w]| (h, w));
        let min_side = match style_input {
            StyleInput::None => predictor_side(&graph, input_size)?,
            _ => smallest_side(&graph, spatial_multiple)?,
        };
        Ok(Model {
            name: description.name.clone(),
            style_input,
            style_count,
            input_size,
            graph,
            min_side,
            spatial_multiple,
        })
    }

    /// The size the network runs at for an image of `width x height`: each side rounded up to the spatial multiple.
    pub fn padded_size(&self, width: u32, height: u32) -> (usize, usize) {
        let m = self.spatial_multiple;
        ((width as usize).div_ceil(m) * m, (height as usize).div_ceil(m) * m)
    }
}

/// The smallest side whose padded size the network runs on and returns unchanged in size, as RGB.
fn smallest_side(graph: &Graph, multiple: usize) -> Result<u32> {
    for side in 1..=MAX_MIN_SIDE {
        let padded = side.div_ceil(multiple) * multiple;
        // Padding up to the multiple is a reflection too, so it can add at most side-1 pixels.
        if padded - side >= side {
            continue;
        }
        let Some(shapes) = graph.infer_shapes(padded, padded)? else { continue };
        let out = shapes[graph.output()];
        if out.channels != 3 || out.height != padded || out.width != padded {
            return Err(Error::graph(format!(
                "the output is {out:?} for a {padded}x{padded} input, not a same-size RGB image"
            )));
        }
        return Ok(side as u32);
    }
    Err(Error::graph(format!("the network cannot run on any image up to {MAX_MIN_SIDE} pixels a side")))
}

/// The style predictor runs at one declared size and must return a vector there.
fn predictor_side(graph: &Graph, input_size: Option<(usize, usize)>) -> Result<u32> {
    let Some((h, w)) = input_size.filter(|&(h, w)| (1..=MAX_MIN_SIDE).contains(&h) && (1..=MAX_MIN_SIDE).contains(&w))
    else {
        return Err(Error::graph(format!("a style predictor must declare an input size up to {MAX_MIN_SIDE}")));
    };
    let shapes =
        graph.infer_shapes(h, w)?.ok_or_else(|| Error::graph(format!("the predictor cannot run at {w}x{h}")))?;
    let out = shapes[graph.output()];
    if out.height != 1 || out.width != 1 {
        return Err(Error::graph(format!("the predictor returns {out:?}, not a vector")));
    }
    Ok(h.min(w) as u32)
}

/// Typed, checked access to the container's tensors.
struct TensorReader<'a, 'data> {
    tensors: &'a SafeTensors<'data>,
    /// The file's format version, which says which dtypes its tensors may have.
    version: u64,
}

impl TensorReader<'_, '_> {
    /// The tensor `name`, of one of `dtypes` and of `rank`: its dtype, shape and bytes (safetensors has checked that
    /// the bytes are as many as the dtype and shape need).
    fn get(&self, name: &str, dtypes: &[Dtype], rank: usize) -> Result<(Dtype, Vec<usize>, &[u8])> {
        let view = self.tensors.tensor(name).map_err(|_| Error::graph(format!("tensor `{name}` is missing")))?;
        if !dtypes.contains(&view.dtype()) || view.shape().len() != rank {
            let expected = dtypes.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>().join(" or ");
            return Err(Error::graph(format!(
                "tensor `{name}` is {:?} {:?}, expected {expected} of rank {rank}",
                view.dtype(),
                view.shape()
            )));
        }
        Ok((view.dtype(), view.shape().to_vec(), view.data()))
    }

    fn f32s(&self, name: &str, rank: usize) -> Result<(Vec<usize>, Vec<f32>)> {
        self.floats(name, &[Dtype::F32], rank)
    }

    /// A float tensor of one of `dtypes` (F32 or F16) as f32, every value finite. f16 widens to f32 exactly.
    fn floats(&self, name: &str, dtypes: &[Dtype], rank: usize) -> Result<(Vec<usize>, Vec<f32>)> {
        let (dtype, shape, bytes) = self.get(name, dtypes, rank)?;
        let values: Vec<f32> = match dtype {
            Dtype::F16 => bytes.chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            Dtype::F32 => bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            other => {
                return Err(Error::internal(format!("`{name}`: {other:?} is not a float dtype the reader decodes")))
            }
        };
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(Error::graph(format!("tensor `{name}` holds a non-finite value ({bad})")));
        }
        Ok((shape, values))
    }

    fn conv_weights(&self, layer: &str, weight: &str, scale: &str, bias: Option<&str>) -> Result<ConvWeights> {
        let (_, shape, bytes) = self.get(weight, &[Dtype::I8], 4)?;
        let [out_channels, in_per_group, kernel_h, kernel_w] = [shape[0], shape[1], shape[2], shape[3]];
        if shape.contains(&0) || kernel_h > MAX_KERNEL || kernel_w > MAX_KERNEL {
            return Err(Error::graph(format!("{layer}: weight shape {shape:?} is not a usable kernel")));
        }
        let (scale_shape, scales) = self.f32s(scale, 1)?;
        if scale_shape != [out_channels] {
            return Err(Error::graph(format!("{layer}: {} scales for {out_channels} output channels", scale_shape[0])));
        }
        if scales.iter().any(|&s| s <= 0.0) {
            return Err(Error::graph(format!("{layer}: weight scales must be positive")));
        }
        let bias = match bias {
            Some(name) => {
                let (bias_shape, values) = self.f32s(name, 1)?;
                if bias_shape != [out_channels] {
                    return Err(Error::graph(format!("{layer}: {} biases for {out_channels} outputs", bias_shape[0])));
                }
                Some(values)
            }
            None => None,
        };
        let quantised = bytemuck::cast_slice::<u8, i8>(bytes).to_vec();
        Ok(ConvWeights { out_channels, in_per_group, kernel_h, kernel_w, quantised, scales, bias })
    }

    /// A 1x1 convolution of a style vector of `length`, with its bias.
    fn projection(&self, layer: &str, p: &ProjectionDescription, length: usize) -> Result<ConvWeights> {
        let weights = self.conv_weights(layer, &p.weight, &p.weight_scale, Some(&p.bias))?;
        if weights.in_per_group != length || weights.kernel_h != 1 || weights.kernel_w != 1 {
            return Err(Error::graph(format!("{layer}: `{}` is not a 1x1 projection of a {length}-vector", p.weight)));
        }
        Ok(weights)
    }

    /// A `[styles][channels]` norm parameter table: f32, or from format version 2 also f16.
    fn style_table(&self, name: &str, style_count: usize) -> Result<(Vec<f32>, usize)> {
        let f16_allowed = self.version >= F16_TABLES_SINCE;
        // Named apart from other wrong dtypes: the message says which version f16 tables need.
        if !f16_allowed && self.tensors.tensor(name).is_ok_and(|view| view.dtype() == Dtype::F16) {
            return Err(Error::graph(format!(
                "tensor `{name}` is F16, but norm tables may be F16 only from format version {F16_TABLES_SINCE} and \
                 this file is version {}",
                self.version
            )));
        }
        let dtypes: &[Dtype] = if f16_allowed { &[Dtype::F32, Dtype::F16] } else { &[Dtype::F32] };
        let (shape, values) = self.floats(name, dtypes, 2)?;
        if shape[0] != style_count || shape[1] == 0 {
            return Err(Error::graph(format!("`{name}` is {shape:?}, expected [{style_count}, channels]")));
        }
        Ok((values, shape[1]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_model_loads_with_its_graph_facts() {
        let model = Model::builtin().unwrap();
        assert_eq!(model.style_count, 26);
        assert_eq!(model.spatial_multiple, 4);
        let convs = model.graph.nodes().iter().filter(|n| matches!(n.op, Op::Conv2d(_))).count();
        assert_eq!(convs, 18);
        // 331x257 runs at 332x260, the multiple of 4 at or above it.
        assert_eq!(model.padded_size(331, 257), (332, 260));
        let names = style_names();
        assert_eq!(names.len(), model.style_count, "every style has a name in models/manifest.json");
        assert!(names.iter().all(|n| !n.trim().is_empty()));
        println!("min side {}", model.min_side);
    }

    /// The builtin model rewritten as format version 1: every f16 norm table widened to f32, the version set to 1.
    fn builtin_as_version_1() -> Vec<u8> {
        let tensors = SafeTensors::deserialize(BUILTIN_MODEL).unwrap();
        let (_, metadata) = SafeTensors::read_metadata(BUILTIN_MODEL).unwrap();
        let mut description: serde_json::Value =
            serde_json::from_str(&metadata.metadata().as_ref().unwrap()[METADATA_KEY]).unwrap();
        description["version"] = 1.into();
        let widened: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = tensors
            .tensors()
            .into_iter()
            .map(|(name, view)| match view.dtype() {
                Dtype::F16 => {
                    let bytes = view
                        .data()
                        .chunks_exact(2)
                        .flat_map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32().to_le_bytes());
                    (name, Dtype::F32, view.shape().to_vec(), bytes.collect())
                }
                dtype => (name, dtype, view.shape().to_vec(), view.data().to_vec()),
            })
            .collect();
        let views = widened.iter().map(|(name, dtype, shape, data)| {
            (name.as_str(), safetensors::tensor::TensorView::new(*dtype, shape.clone(), data).unwrap())
        });
        let metadata = HashMap::from([(METADATA_KEY.to_string(), description.to_string())]);
        safetensors::tensor::serialize(views, Some(metadata)).unwrap()
    }

    #[test]
    fn the_builtin_model_stores_its_norm_tables_as_f16() {
        let tensors = SafeTensors::deserialize(BUILTIN_MODEL).unwrap();
        let tables: Vec<_> = tensors.tensors().into_iter().filter(|(name, _)| name.contains(".norm.")).collect();
        assert_eq!(tables.len(), 36, "gamma and beta of 18 norms");
        assert!(tables.iter().all(|(_, view)| view.dtype() == Dtype::F16));
    }

    /// Version 1 files (f32 tables) still load, and f16 widens exactly: the same tables give the same graph.
    #[test]
    fn a_version_1_file_with_f32_tables_loads_to_the_same_graph() {
        let old = builtin_as_version_1();
        assert!(old.len() > BUILTIN_MODEL.len() + 50_000, "the f32 tables take twice the bytes");
        let (old, new) = (Model::from_bytes(&old).unwrap(), Model::builtin().unwrap());
        assert_eq!(old.graph, new.graph);
        let weights: Vec<f32> = (0..26).map(|i| if i == 19 { 1.0 } else { 0.0 }).collect();
        assert_eq!(crate::StyleParams::mix(&old.graph, &weights).0, crate::StyleParams::mix(&new.graph, &weights).0);
    }

    #[test]
    fn f16_tables_in_a_version_1_file_are_refused_with_the_version_they_need() {
        let (_, metadata) = SafeTensors::read_metadata(BUILTIN_MODEL).unwrap();
        let text = &metadata.metadata().as_ref().unwrap()[METADATA_KEY];
        let tensors = SafeTensors::deserialize(BUILTIN_MODEL).unwrap();
        let views = tensors.tensors();
        let mut description: serde_json::Value = serde_json::from_str(text).unwrap();
        description["version"] = 1.into();
        let metadata = HashMap::from([(METADATA_KEY.to_string(), description.to_string())]);
        let bytes = safetensors::tensor::serialize(views, Some(metadata)).unwrap();
        let error = Model::from_bytes(&bytes).unwrap_err();
        assert!(matches!(error, Error::ModelGraph { .. }), "{error}");
        assert!(error.to_string().contains("only from format version 2"), "{error}");
    }
}

#[cfg(test)]
mod format_tests {
    use super::{FORMAT_NAME, FORMAT_VERSION, METADATA_KEY};

    /// The converter writes what this loader reads: its format name, version and metadata key are copies of these
    /// constants (Python cannot import them), held equal here.
    #[test]
    fn the_converter_writes_the_format_this_build_reads() {
        let converter = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/models/convert.py")).unwrap();
        let value_of = |name: &str| {
            let line = converter.lines().find(|line| line.starts_with(&format!("{name} = "))).unwrap_or_default();
            line.split_once(" = ").map(|(_, v)| v.trim().trim_matches('"').to_string()).unwrap_or_default()
        };
        assert_eq!(value_of("FORMAT_NAME"), FORMAT_NAME, "models/convert.py's FORMAT_NAME");
        assert_eq!(value_of("FORMAT_VERSION"), FORMAT_VERSION.to_string(), "models/convert.py's FORMAT_VERSION");
        assert!(converter.contains(&format!("\"{METADATA_KEY}\"")), "models/convert.py's metadata key");
    }
}
