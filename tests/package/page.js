// Runs in the scratch app's page: imports Styler from the installed package (through the import map the test
// writes from the package's `exports`) and reports plain data back to tests/package/run.mjs.
import { Styler, VitrineError, isVitrineError } from 'vitrine';

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

// A product photo as a studio takes one: a dark rounded box (a gradient and a lighter band, anti-aliased edges) with
// a soft grey shadow on a white backdrop. tests/web.rs draws the same photo.
function productPhoto(width, height) {
  const data = new Uint8ClampedArray(width * height * 4);
  const rounded = (px, py, cx, cy, hx, hy, r) => {
    const [qx, qy] = [Math.abs(px - cx) - (hx - r), Math.abs(py - cy) - (hy - r)];
    return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
  };
  const [cx, cy, hx, hy, r] = [width / 2, height * 0.46, width * 0.26, height * 0.25, 14];
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const [px, py] = [x + 0.5, y + 0.5];
      const cover = Math.min(1, Math.max(0, 0.5 - rounded(px, py, cx, cy, hx, hy, r)));
      const shadow = Math.exp(-((Math.max(0, rounded(px, py, cx + 4, cy + 8, hx, hy, r)) / 7) ** 2));
      const backdrop = 255 - 62 * shadow;
      const t = (py - (cy - hy)) / (2 * hy);
      const band = Math.abs(py - cy) < 6 ? 70 : 0;
      const product = [38 + 30 * t + band, 46 + 34 * t + band, 62 + 40 * t + band * 0.6];
      const i = (y * width + x) * 4;
      for (let c = 0; c < 3; c += 1) data[i + c] = Math.round(cover * product[c] + (1 - cover) * backdrop);
      data[i + 3] = 255;
    }
  }
  return new ImageData(data, width, height);
}

// What an image does with the product photo's far backdrop (a ring along the frame's edges, far from the product
// and its shadow) and the product's centre, with its report.
function backdropSummary(image, photo) {
  const { width, height } = photo;
  let moved = 0;
  let white = true;
  let clear = true;
  let opaque = true;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      if (!(x < 14 || x >= width - 14 || y < 12 || y >= height - 12)) continue;
      const i = (y * width + x) * 4;
      for (let c = 0; c < 3; c += 1) {
        moved = Math.max(moved, Math.abs(image.data[i + c] - photo.data[i + c]));
        white &&= image.data[i + c] === 255;
      }
      clear &&= image.data[i + 3] === 0;
      opaque &&= image.data[i + 3] === 255;
    }
  }
  const centre = (Math.floor(height * 0.46) * width + width / 2) * 4;
  // In the product's shadow, a few pixels below it: grey in the photo, kept by auto and keep, white by white.
  const shade = (Math.floor(height * 0.74) * width + width / 2) * 4;
  return {
    moved, white, clear, opaque,
    shadow: { photo: photo.data[shade], image: image.data[shade], alpha: image.data[shade + 3] },
    centreAlpha: image.data[centre + 3],
    size: [image.width, image.height],
    background: image.background === undefined ? null : { ...image.background },
  };
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
      precision: styler.precision,
      fallbackReason: styler.fallbackReason,
      createMs: performance.now() - created,
      stages,
      results: {},
      checks: {},
    };
    // The whole frame painted, as onnxruntime paints it (a studio backdrop is kept by default).
    for (const { name, style } of cases) {
      const started = performance.now();
      const result = await styler.stylize(image, { style, background: 'paint' });
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
      const again = await styler.stylize(image, { style, background: 'paint' });
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
      const plainImage = await styler.stylize(image, { style: 19 });
      const plain = Array.from(plainImage.data);
      checks.plainBackground = plainImage.background;
      const same = async (source) => {
        const got = Array.from((await styler.stylize(await source, { style: 19 })).data);
        return got.every((v, i) => Math.abs(v - plain[i]) <= 1);
      };
      checks.imageBitmap = await same(createImageBitmap(image));
      checks.canvas = await same(asCanvas(image));
      checks.offscreenCanvas = await same(asOffscreen(image));
      checks.imageElement = await same(asImageElement(image));
      // Re-blending the full-strength result gives what stylize gives with those options: within one level for a
      // whole frame; within two where a product was composited over its backdrop (rounded to 8 bits once more).
      const full = await styler.stylize(image, { style: 19, background: 'paint' });
      const direct = await styler.stylize(image, { style: 19, strength: 0.6, preserveColor: true, background: 'paint' });
      const reblended = styler.finish(image, new ImageData(new Uint8ClampedArray(full.data), width, height), { strength: 0.6, preserveColor: true, background: 'paint' });
      const composited = await styler.stylize(image, { style: 19, strength: 0.6, preserveColor: true });
      const reblendedAuto = styler.finish(image, new ImageData(new Uint8ClampedArray(plain), width, height), { strength: 0.6, preserveColor: true });
      checks.finishMatchesStylize = reblended.data.every((v, i) => Math.abs(v - direct.data[i]) <= 1)
        && reblendedAuto.data.every((v, i) => Math.abs(v - composited.data[i]) <= 2);
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
        // Refused before anything is downloaded: the arbitrary-style model is not fetched for it.
        vectorVersion: await codeOf(styler.stylize(image, { style: { format: 'vitrine-style', version: 2, model: 'arbitrary_transform', vector: [1, 2] } })),
        vectorNaN: await codeOf(styler.stylize(image, { style: { format: 'vitrine-style', version: 1, model: 'arbitrary_transform', vector: [1, NaN] } })),
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

  // Style vectors on `backend`, in a fresh Styler, phase by phase, with the package's model downloads after each
  // phase (resource timing): a vector at full strength fetches the transformer only; styleFromImage fetches the
  // predictor. `data` carries the fixtures from tests/fixtures/arbitrary/ (read in Node).
  async vectors(backend, data, extras) {
    const modelsFetched = () => performance.getEntriesByType('resource')
      .map((entry) => new URL(entry.name).pathname.split('/').pop())
      .filter((name) => name.endsWith('.safetensors'));
    performance.clearResourceTimings();
    const report = { phases: {}, timings: {}, checks: {} };
    const image = new ImageData(new Uint8ClampedArray(data.input), data.width, data.height);
    const file = (vector) => ({ format: 'vitrine-style', version: 1, model: 'arbitrary_transform', vector });
    const progress = [];
    let started = performance.now();
    const styler = await Styler.create({ backend, onProgress: (event) => event.stage === 'model' && progress.push(event.model) });
    report.backend = styler.backend;
    report.phases.create = modelsFetched();

    started = performance.now();
    const full = await styler.stylize(image, { style: file(data.vector), background: 'paint' });
    report.timings.vector = performance.now() - started;
    report.full = Array.from(full.data);
    report.phases.vector = modelsFetched();

    const bytes = Uint8Array.from(atob(data.stylePng), (c) => c.charCodeAt(0));
    const picture = await createImageBitmap(new Blob([bytes], { type: 'image/png' }), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    started = performance.now();
    const style = await styler.styleFromImage(picture);
    report.timings.styleFromImage = performance.now() - started;
    report.style = style;
    report.styleIsPlain = Object.getPrototypeOf(style) === Object.prototype && Array.isArray(style.vector) &&
      JSON.stringify(JSON.parse(JSON.stringify(style))) === JSON.stringify(style);
    report.phases.styleFromImage = modelsFetched();

    started = performance.now();
    const half = await styler.stylize(image, { style: file(data.styleVector), strength: 0.5, background: 'paint' });
    report.timings.strength = performance.now() - started;
    report.half = Array.from(half.data);
    report.progress = progress;

    if (extras) {
      const { checks } = report;
      const same = (a, b) => a.data.every((v, i) => v === b.data[i]);
      // The object styleFromImage gave, through JSON and back, and as a Float32Array, paints the same image.
      const direct = await styler.stylize(image, { style });
      checks.jsonRoundTrip = same(direct, await styler.stylize(image, { style: JSON.parse(JSON.stringify(style)) }));
      checks.float32Array = same(direct, await styler.stylize(image, { style: { ...style, vector: new Float32Array(style.vector) } }));
      // A blend of one vector is that vector; a blend of two is their weighted mean, normalised.
      // (3v/3 may be an ulp off v in f32: within one level.)
      const near = (a, b) => a.data.every((v, i) => Math.abs(v - b.data[i]) <= 1);
      checks.blendOfOne = near(full, await styler.stylize(image, { style: { vectors: [{ style: file(data.vector), weight: 3 }] }, background: 'paint' }));
      const mean = data.vector.map((v, i) => 0.25 * v + 0.75 * style.vector[i]);
      const blended = await styler.stylize(image, { style: { vectors: [{ style: file(data.vector), weight: 1 }, { style, weight: 3 }] } });
      const meanImage = await styler.stylize(image, { style: file(mean) });
      checks.blendOfTwo = near(blended, meanImage);
      // maxSize: the vector paints at the working size, the result comes back at the input's size with its alpha.
      const clear = new ImageData(new Uint8ClampedArray(image.data), image.width, image.height);
      for (let i = 3; i < clear.data.length; i += 8) clear.data[i] = 0;
      const small = await styler.stylize(clear, { style, maxSize: 48, strength: 0.7, preserveColor: true });
      checks.maxSizeKeepsSizeAndAlpha = small.width === image.width && small.height === image.height &&
        small.data.every((v, i) => i % 4 !== 3 || v === clear.data[i]);
      // Presets still paint after vectors (the two models live side by side).
      checks.presetAfterVector = (await styler.stylize(image, { style: 19 })).width === image.width;
      const bad = (patch) => ({ ...file(data.vector), ...patch });
      const short = data.vector.slice(0, 99);
      const nan = data.vector.slice();
      nan[7] = NaN;
      const infinite = data.vector.slice();
      infinite[3] = Infinity;
      const text = data.vector.slice();
      text[0] = '0.5';
      const messageOf = async (promise) => {
        try {
          await promise;
          return 'no error';
        } catch (error) {
          return `${error.code}: ${error.message}`;
        }
      };
      checks.errors = {};
      checks.messages = {};
      const cases = {
        length: bad({ vector: short }),
        nan: bad({ vector: nan }),
        infinity: bad({ vector: infinite }),
        text: bad({ vector: text }),
        version: bad({ version: 2 }),
        format: bad({ format: 'something-else' }),
        model: bad({ model: 'multistyle26' }),
        noVector: bad({ vector: undefined }),
        blendWeights: { vectors: [{ style: file(data.vector), weight: -1 }] },
        blendEmpty: { vectors: [] },
        blendLengths: { vectors: [{ style: file(data.vector) }, { style: bad({ vector: short }) }] },
      };
      for (const [name, badStyle] of Object.entries(cases)) {
        const message = await messageOf(styler.stylize(image, { style: badStyle }));
        checks.errors[name] = message.split(':')[0];
        checks.messages[name] = message;
      }
      checks.errors.strength = await codeOf(styler.stylize(image, { style, strength: 1.5 }));
      checks.errors.styleFromImage = await codeOf(styler.styleFromImage('picture.png'));
      checks.errors.transformModel = await codeOf(Styler.create({ backend: 'cpu', transformModel: 42 }));
      styler.free();
      checks.errors.freed = await codeOf(styler.styleFromImage(picture));
    } else {
      styler.free();
    }
    return report;
  },

  // tileSize: a 256x256 photo (the centred square of coffee.jpg, drawn on a canvas) styled whole and in 64 px tiles
  // (16 tiles, each with its 72 px halo) by two Stylers on `backend`, for each style in `styles` (a preset index or
  // a style vector's numbers). Reports the plans, each pair's PSNR and worst difference, and the times.
  async tiles(backend, styles, extras) {
    const SIDE = 256;
    const TILE = 64;
    const img = new Image();
    img.src = './fixtures/coffee.jpg';
    await img.decode();
    const canvas = new OffscreenCanvas(SIDE, SIDE);
    const ctx = canvas.getContext('2d');
    const square = Math.min(img.naturalWidth, img.naturalHeight);
    ctx.drawImage(img, (img.naturalWidth - square) / 2, (img.naturalHeight - square) / 2, square, square, 0, 0, SIDE, SIDE);
    const photo = ctx.getImageData(0, 0, SIDE, SIDE);
    // SwiftShader paints 16 haloed tiles for minutes, past the default gpuTimeout meant for hardware GPUs.
    const whole = await Styler.create({ backend, gpuTimeout: Infinity });
    const tiled = await Styler.create({ backend, tileSize: TILE, gpuTimeout: Infinity });
    const report = {
      backend: [whole.backend, tiled.backend],
      plans: { whole: await whole.tilePlan(SIDE, SIDE), tiled: await tiled.tilePlan(SIDE, SIDE) },
      cases: [],
    };
    for (const style of styles) {
      const option = typeof style === 'number' ? style : { format: 'vitrine-style', version: 1, model: 'arbitrary_transform', vector: style };
      let started = performance.now();
      const a = await whole.stylize(photo, { style: option });
      const wholeMs = performance.now() - started;
      started = performance.now();
      const b = await tiled.stylize(photo, { style: option });
      const tiledMs = performance.now() - started;
      let sum = 0;
      let worst = 0;
      let alphaKept = true;
      for (let i = 0; i < a.data.length; i += 1) {
        if (i % 4 === 3) {
          alphaKept &&= b.data[i] === 255;
          continue;
        }
        const d = a.data[i] - b.data[i];
        sum += d * d;
        worst = Math.max(worst, Math.abs(d));
      }
      const mse = sum / (SIDE * SIDE * 3) / (255 * 255);
      report.cases.push({
        style: typeof style === 'number' ? `preset ${style}` : 'a style vector',
        psnr: mse === 0 ? Infinity : 10 * Math.log10(1 / mse),
        worst,
        sameSize: b.width === SIDE && b.height === SIDE,
        alphaKept,
        wholeMs,
        tiledMs,
      });
    }
    const planTooSmall = await codeOf(tiled.tilePlan(2, 2));
    whole.free();
    tiled.free();
    if (extras) {
      report.errors = { planTooSmall };
      for (const [name, tileSize] of Object.entries({ zero: 0, negative: -64, notMultiple: 30, fraction: 6.5, text: '64', infinity: Infinity })) {
        report.errors[name] = await codeOf(Styler.create({ backend, tileSize }));
      }
    }
    return report;
  },

  // Faults on `backend`: free() while calls are in flight and queued, and (on WebGPU) a GPU call that never
  // settles: GPUBuffer.mapAsync, which every readback awaits, made to return a promise that never resolves, so the
  // package's own timeout is what ends the call.
  async faults(backend, timeoutMs) {
    const { width, height, input } = await fixture();
    const image = new ImageData(new Uint8ClampedArray(input), width, height);
    const same = (a, b) => a.data.every((v, i) => v === b.data[i]);
    const outcome = async (promise) => {
      try {
        return { value: await promise };
      } catch (error) {
        return { code: error?.code, message: error?.message, isVitrineError: isVitrineError(error), instance: error instanceof VitrineError };
      }
    };
    const syncCode = (work) => {
      try {
        work();
        return 'no error';
      } catch (error) {
        return error?.code;
      }
    };
    const report = { backend };
    const styler = await Styler.create({ backend });
    report.createdOn = styler.backend;
    const reference = await styler.stylize(image, { style: 19 });
    const warmStarted = performance.now();
    const mix = await styler.stylize(image, { style: { 3: 1, 12: 1 } });
    report.warmMs = performance.now() - warmStarted;
    // Two calls made, the first in flight; free() now, and again; then a call after it.
    const first = styler.stylize(image, { style: 19 });
    const second = styler.stylize(image, { style: { 3: 1, 12: 1 } });
    await Promise.resolve();
    styler.free();
    styler.free();
    const late = await outcome(styler.stylize(image, { style: 19 }));
    const [a, b] = [await outcome(first), await outcome(second)];
    report.free = {
      first: a.value ? same(a.value, reference) : a,
      second: b.value ? same(b.value, mix) : b,
      late: late.code,
      lateIsVitrineError: late.isVitrineError && late.instance,
      tilePlan: (await outcome(styler.tilePlan(96, 96))).code,
      styleFromImage: (await outcome(styler.styleFromImage(image))).code,
      finish: syncCode(() => styler.finish(image, reference)),
      simulateDeviceLoss: syncCode(() => styler.simulateDeviceLoss()),
    };
    const opened = performance.now();
    const fresh = await Styler.create({ backend });
    report.createMs = performance.now() - opened;
    report.free.freshStylerSame = same(await fresh.stylize(image, { style: 19 }), reference);
    fresh.free();
    if (backend !== 'webgpu') return report;

    // The timeout stays well above what a warm call and opening WebGPU (compiling every pipeline) take on this
    // machine, so only the hung call can reach it.
    const gpuTimeout = Math.max(timeoutMs, 5 * report.warmMs, 3 * report.createMs);
    report.gpuTimeout = gpuTimeout;
    const gpu = await Styler.create({ backend: 'webgpu', gpuTimeout });
    const before = await gpu.stylize(image, { style: 19 });
    const mapAsync = GPUBuffer.prototype.mapAsync;
    GPUBuffer.prototype.mapAsync = function neverSettles() {
      return new Promise(() => {});
    };
    let hung;
    let hungAgain;
    const started = performance.now();
    try {
      hung = await outcome(gpu.stylize(image, { style: 19 }));
      hung.ms = performance.now() - started;
      // The next call opens a new device; with the GPU still not answering, it times out too.
      hungAgain = await outcome(gpu.stylize(image, { style: 19 }));
    } finally {
      GPUBuffer.prototype.mapAsync = mapAsync;
    }
    const after = await outcome(gpu.stylize(image, { style: 19 }));
    report.timeout = {
      code: hung.code,
      message: hung.message,
      isVitrineError: hung.isVitrineError,
      ms: hung.ms,
      againCode: hungAgain.code,
      recovered: after.value ? same(after.value, before) : after,
      backend: gpu.backend,
    };
    // A hung call, then free(): no error, and the call after free() says FREED.
    const doomed = await Styler.create({ backend: 'webgpu', gpuTimeout });
    await doomed.stylize(image, { style: 2 });
    GPUBuffer.prototype.mapAsync = function neverSettles() {
      return new Promise(() => {});
    };
    try {
      const pending = doomed.stylize(image, { style: 2 });
      await Promise.resolve();
      report.timeout.freeDuringHang = syncCode(() => doomed.free());
      report.timeout.hungThenFreed = (await outcome(pending)).code;
    } finally {
      GPUBuffer.prototype.mapAsync = mapAsync;
    }
    report.timeout.afterFree = (await outcome(doomed.stylize(image))).code;
    // Under 'auto' a hung GPU call sends the next one to the CPU. 'auto' passes over SwiftShader, so the adapter
    // is presented as a hardware one (isFallbackAdapter false) while the Styler is created.
    const cpu = await Styler.create({ backend: 'cpu' });
    const cpuReference = await cpu.stylize(image, { style: 19 });
    cpu.free();
    const classes = [GPUAdapter, globalThis.GPUAdapterInfo].filter(Boolean);
    const fallbacks = classes.map((c) => Object.getOwnPropertyDescriptor(c.prototype, 'isFallbackAdapter'));
    for (const c of classes) Object.defineProperty(c.prototype, 'isFallbackAdapter', { configurable: true, get: () => false });
    let auto;
    try {
      auto = await Styler.create({ backend: 'auto', gpuTimeout });
    } finally {
      classes.forEach((c, i) => {
        if (fallbacks[i]) Object.defineProperty(c.prototype, 'isFallbackAdapter', fallbacks[i]);
        else delete c.prototype.isFallbackAdapter;
      });
    }
    const startedOn = auto.backend;
    await auto.stylize(image, { style: 19 });
    GPUBuffer.prototype.mapAsync = function neverSettles() {
      return new Promise(() => {});
    };
    let hungAuto;
    try {
      hungAuto = await outcome(auto.stylize(image, { style: 19 }));
    } finally {
      GPUBuffer.prototype.mapAsync = mapAsync;
    }
    const next = await outcome(auto.stylize(image, { style: 19 }));
    report.auto = {
      startedOn,
      code: hungAuto.code,
      message: hungAuto.message,
      backend: auto.backend,
      fallbackReason: auto.fallbackReason,
      sameAsCpu: next.value ? same(next.value, cpuReference) : next,
    };
    auto.free();
    const options = {};
    for (const [name, value] of Object.entries({ zero: 0, negative: -5, text: '100', nan: NaN })) {
      options[name] = (await outcome(Styler.create({ backend: 'cpu', gpuTimeout: value }))).code;
    }
    report.timeout.options = options;
    gpu.free();
    return report;
  },

  // `background` on a 200x160 product photo on white: each mode at full size and its report (and the default);
  // with `extras`, the maxSize path (styled at 100x80, finished at full size through the full-size matte), finish
  // re-blending a full-strength result (the mode from its report, or given), and bad modes.
  async backdrop(backend, extras) {
    const photo = productPhoto(200, 160);
    const styler = await Styler.create({ backend });
    const report = { backend: styler.backend, modes: {}, maxSize: {}, finish: {}, errors: {} };
    const modes = ['auto', 'keep', 'white', 'transparent', 'paint'];
    const full = {};
    for (const mode of extras ? modes : ['auto']) {
      const started = performance.now();
      full[mode] = await styler.stylize(photo, { style: 19, background: mode });
      report.modes[mode] = { ...backdropSummary(full[mode], photo), ms: performance.now() - started };
    }
    if (extras) {
      report.defaultMode = backdropSummary(await styler.stylize(photo, { style: 19 }), photo);
      for (const mode of ['auto', 'white', 'transparent', 'paint']) {
        report.maxSize[mode] = backdropSummary(await styler.stylize(photo, { style: 19, background: mode, maxSize: 100 }), photo);
      }
      // A strength slider: the full-strength result re-blended, the mode read from its report.
      for (const mode of ['auto', 'white', 'transparent']) {
        report.finish[mode] = backdropSummary(styler.finish(photo, full[mode], { strength: 0.5, preserveColor: true }), photo);
      }
      // The mode given: a full-strength result copied (postMessage keeps no report) and finished as white.
      const copy = new ImageData(new Uint8ClampedArray(full.white.data), photo.width, photo.height);
      report.finish.given = backdropSummary(styler.finish(photo, copy, { strength: 0.3, background: 'white' }), photo);
      const messageOf = async (work) => {
        try {
          await work();
          return 'no error';
        } catch (error) {
          return `${error.code}: ${error.message}`;
        }
      };
      report.errors.stylize = await messageOf(() => styler.stylize(photo, { style: 19, background: 'grey' }));
      report.errors.number = await messageOf(() => styler.stylize(photo, { background: 3 }));
      report.errors.finish = await messageOf(() => styler.finish(photo, full.auto, { background: 'Auto' }));
    }
    styler.free();
    return report;
  },

  // What the package fetched so far: the model files' names.
  modelsFetched() {
    return performance.getEntriesByType('resource')
      .map((entry) => new URL(entry.name).pathname.split('/').pop())
      .filter((name) => name.endsWith('.safetensors'));
  },

  async errorOf(backend) {
    return codeOf(Styler.create({ backend }));
  },
};
window.vitrineReady = true;
