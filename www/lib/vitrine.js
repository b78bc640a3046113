// vitrine: painted looks for product photos, on WebGPU or on the CPU (WebAssembly), in the browser.
// The package's main entry: the Styler of core.js with the arbitrary-style pair's files as its defaults (style
// vectors and "your own style"). Each file is a `new URL` literal, so bundlers emit it; the browser fetches each
// only on first use. A presets-only app imports `vitrine/presets`, which names neither file.
import { ARBITRARY_MODELS, Styler as EngineStyler } from './core.js';

export { VitrineError, isVitrineError } from './core.js';

export class Styler extends EngineStyler {
  static [ARBITRARY_MODELS] = Object.freeze({
    transform: new URL('./arbitrary_transform.vitrine.safetensors', import.meta.url),
    predictor: new URL('./arbitrary_predict.vitrine.safetensors', import.meta.url),
  });
}

export default Styler;
