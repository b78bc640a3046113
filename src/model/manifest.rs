//! The shipped model's manifest: the names shown for the preset styles, and their thumbnails.

use serde::Deserialize;

/// `models/manifest.json`, compiled in beside the model.
pub(crate) const BUILTIN_MANIFEST: &str = include_str!("../../models/manifest.json");

#[derive(Debug, Deserialize)]
struct Manifest {
    styles: Vec<PresetStyle>,
}

/// One preset of the built-in model, as the manifest describes it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub(crate) struct PresetStyle {
    pub id: usize,
    pub name: String,
    /// A small JPEG, relative to the manifest's folder (`thumbnails/NN.jpg`).
    pub thumbnail: String,
}

/// The built-in model's presets, in index order.
pub(crate) fn builtin_styles() -> Vec<PresetStyle> {
    // The manifest is part of the build and checked by a test, so a parse failure only yields no entries.
    let Ok(manifest) = serde_json::from_str::<Manifest>(BUILTIN_MANIFEST) else { return Vec::new() };
    let mut styles = manifest.styles;
    styles.sort_by_key(|s| s.id);
    styles
}

/// The display name of each built-in preset style, in index order.
pub fn style_names() -> Vec<String> {
    builtin_styles().into_iter().map(|s| s.name).collect()
}
