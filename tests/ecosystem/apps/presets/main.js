// A presets-only shop page built by Vite from `vitrine/presets`: the build must hold neither arbitrary-style file,
// presets must still paint, and a style vector must say what is missing.
import { Styler, VitrineError } from 'vitrine/presets';

window.shop = {
  async run() {
    const styler = await Styler.create({ backend: 'cpu' });
    const input = new ImageData(new Uint8ClampedArray(64 * 64 * 4).fill(200), 64, 64);
    const styled = await styler.stylize(input, { style: 7 });
    const changed = styled.data.some((v, i) => v !== input.data[i]);
    let vector;
    try {
      await styler.stylize(input, { style: { format: 'vitrine-style', version: 1, model: 'arbitrary_transform', vector: new Array(100).fill(0.1) } });
      vector = { code: 'no error' };
    } catch (error) {
      vector = { isVitrineError: error instanceof VitrineError, code: error.code, message: error.message };
    }
    styler.free();
    return { changed, vector, thumbnails: styler.styles.length };
  },
};
window.shopReady = true;
