// vitrine/presets: the Styler with the 26 preset styles only. It names no arbitrary-style file, so a bundler
// copies neither (2.5 MB) into a presets-only app; style vectors still work given transformModel (and
// predictorModel for styleFromImage) URLs in Styler.create.
export { Styler, Styler as default, VitrineError, isVitrineError } from './core.js';
