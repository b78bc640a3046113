// Runs in the scratch app's page: imports Styler from the installed package (through the import map the test
// writes from the package's `exports`) and reports plain data back to tests/package/run.mjs.
import { Styler } from 'vitrine';

async function fixture() {
  const bytes = new Uint8Array(await (await fetch('./fixtures/rocket_96x96.safetensors')).arrayBuffer());
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const [start, end] = header.input.data_offsets;
  const [height, width] = header.input.shape;
  const input = bytes.slice(8 + headerLength + start, 8 + headerLength + end);
  return { width, height, input, cases: JSON.parse(header.__metadata__.cases).cases };
}

const codeOf = async (promise) => {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    return error instanceof Error ? error.code ?? `uncoded: ${error.message}` : `not an Error: ${error}`;
  }
};

async function asImageElement(imageData) {
  const canvas = new OffscreenCanvas(imageData.width, imageData.height);
  canvas.getContext('2d').putImageData(imageData, 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  const img = new Image();
  img.src = URL.createObjectURL(blob);
  await img.decode();
  return img;
}

function asCanvas(imageData) {
  const canvas = document.createElement('canvas');
  canvas.width = imageData.width;
  canvas.height = imageData.height;
  canvas.getContext('2d').putImageData(imageData, 0, 0);
  return canvas;
}

function asOffscreen(imageData) {
  const canvas = new OffscreenCanvas(imageData.width, imageData.height);
  canvas.getContext('2d').putImageData(imageData, 0, 0);
  return canvas;
}

window.vitrineTest = {
  // Styles the fixture's photo with each case's style on `backend`; `extras` also runs the API checks.
  async run(backend, extras) {
    const { width, height, input, cases } = await fixture();
    const image = new ImageData(new Uint8ClampedArray(input), width, height);
    const stages = [];
    const created = performance.now();
    const styler = await Styler.create({ backend, onProgress: (event) => stages.push(event.stage) });
    const report = {
      backend: styler.backend,
      fallbackReason: styler.fallbackReason,
      createMs: performance.now() - created,
      stages,
      results: {},
      checks: {},
    };
    for (const { name, style } of cases) {
      const started = performance.now();
      const result = await styler.stylize(image, { style });
      report.results[name] = {
        ms: performance.now() - started,
        width: result.width,
        height: result.height,
        isImageData: result instanceof ImageData,
        data: Array.from(result.data),
      };
    }
    if (styler.backend === 'webgpu') {
      // A device lost mid-session (a driver reset): the next call opens a new one and gives the same image.
      const { name, style } = cases[cases.length - 1];
      const lost = styler.simulateDeviceLoss();
      const again = await styler.stylize(image, { style });
      report.afterLoss = {
        lost,
        backend: styler.backend,
        same: Array.from(again.data).every((v, i) => v === report.results[name].data[i]),
      };
    }
    if (extras) {
      const { checks } = report;
      const styles = styler.styles;
      checks.styleCount = styles.length;
      checks.style19 = styles[19] && { id: styles[19].id, name: styles[19].name };
      checks.thumbnailStatus = (await fetch(styles[19].thumbnail)).status;
      const plain = Array.from((await styler.stylize(image, { style: 19 })).data);
      const same = async (source) => {
        const got = Array.from((await styler.stylize(await source, { style: 19 })).data);
        return got.every((v, i) => Math.abs(v - plain[i]) <= 1);
      };
      checks.imageBitmap = await same(createImageBitmap(image));
      checks.canvas = await same(asCanvas(image));
      checks.offscreenCanvas = await same(asOffscreen(image));
      checks.imageElement = await same(asImageElement(image));
      // Re-blending the full-strength result gives what stylize gives with those options, within one level.
      const direct = await styler.stylize(image, { style: 19, strength: 0.6, preserveColor: true });
      const reblended = styler.finish(image, new ImageData(new Uint8ClampedArray(plain), width, height), { strength: 0.6, preserveColor: true });
      checks.finishMatchesStylize = reblended.data.every((v, i) => Math.abs(v - direct.data[i]) <= 1);
      const keep = await styler.stylize(image, { style: 19, strength: 0 });
      checks.strengthZeroIsThePhoto = Array.from(keep.data).every((v, i) => v === image.data[i]);
      // Half the photo transparent, styled at half size: the result has the input's size and alpha.
      const clear = new ImageData(new Uint8ClampedArray(image.data), width, height);
      for (let i = 3; i < clear.data.length; i += 8) clear.data[i] = 0;
      const small = await styler.stylize(clear, { style: { 6: 1, 21: 1 }, maxSize: 48, preserveColor: true, strength: 0.7 });
      checks.maxSizeKeepsSizeAndAlpha = small.width === width && small.height === height &&
        small.data.every((v, i) => i % 4 !== 3 || v === clear.data[i]);
      checks.errors = {
        styleIndex: await codeOf(styler.stylize(image, { style: 26 })),
        styleWeights: await codeOf(styler.stylize(image, { style: { 3: -1 } })),
        strength: await codeOf(styler.stylize(image, { style: 3, strength: 2 })),
        tooSmall: await codeOf(styler.stylize(new ImageData(2, 2))),
        badImage: await codeOf(styler.stylize('photo.jpg')),
        maxSize: await codeOf(styler.stylize(image, { maxSize: -1 })),
        finishSize: await codeOf((async () => styler.finish(image, new ImageData(2, 2)))()),
        backend: await codeOf(Styler.create({ backend: 'gpu' })),
        modelFormat: await codeOf(Styler.create({ backend: 'cpu', model: new Uint8Array([1, 2, 3]) })),
        modelFetch: await codeOf(Styler.create({ backend: 'cpu', model: './no-such-model.safetensors' })),
      };
      // Queued calls all settle, in order, after a bad one.
      const queued = await Promise.allSettled([
        styler.stylize(image, { style: 99 }),
        styler.stylize(image, { style: 2, maxSize: 32 }),
      ]);
      checks.queue = queued.map((r) => r.status).join(',');
      styler.free();
      checks.errors.freed = await codeOf(styler.stylize(image));
    } else {
      styler.free();
    }
    return report;
  },

  async errorOf(backend) {
    return codeOf(Styler.create({ backend }));
  },
};
window.vitrineReady = true;
