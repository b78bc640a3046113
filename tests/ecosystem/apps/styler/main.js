// A shop's page built by Vite from the packed package's main entry: every preset thumbnail as an <img>, and one
// photo styled. tests/ecosystem/run.mjs calls window.shop.run() and reads plain data back.
import { Styler, isVitrineError } from 'vitrine';

const violations = [];
document.addEventListener('securitypolicyviolation', (event) => violations.push(`${event.effectiveDirective} ${event.blockedURI}`));

function photo(width, height) {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i += 1) {
    data.set([(i % width) * 4 % 256, Math.floor(i / width) * 4 % 256, 128, 255], i * 4);
  }
  return new ImageData(data, width, height);
}

async function thumbnails(styler) {
  return Promise.all(styler.styles.map(({ id, thumbnail }) => new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve({ id, url: thumbnail, width: img.naturalWidth, height: img.naturalHeight });
    img.onerror = () => resolve({ id, url: thumbnail, width: 0, height: 0 });
    img.src = thumbnail;
    document.body.append(img);
  })));
}

window.shop = {
  async run() {
    try {
      const styler = await Styler.create({ backend: 'cpu' });
      const input = photo(64, 48);
      const styled = await styler.stylize(input, { style: 19 });
      const changed = styled.data.reduce((sum, v, i) => sum + Math.abs(v - input.data[i]), 0) / styled.data.length;
      const report = { ok: true, thumbnails: await thumbnails(styler), changed, size: [styled.width, styled.height], violations };
      styler.free();
      return report;
    } catch (error) {
      return { ok: false, vitrineError: isVitrineError(error), code: error?.code, message: String(error?.message ?? error), violations };
    }
  },
};
window.shopReady = true;
