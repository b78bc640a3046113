// Runs in the test app's page in every engine (Chromium, Firefox, WebKit): imports Styler from the package (through
// the import map tests/engines/run.mjs writes from the package's `exports`) and reports plain data back. Inputs are
// raw RGBA files the test writes, so every engine styles the very same bytes (no engine decodes a JPEG of its own).
import { Styler } from 'vitrine';

const errors = [];
window.addEventListener('error', (event) => errors.push(`error: ${event.message}`));
window.addEventListener('unhandledrejection', (event) => errors.push(`unhandled rejection: ${event.reason}`));

const codeOf = async (promise) => {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    return error instanceof Error ? error.code ?? `uncoded: ${error.message}` : `not an Error: ${error}`;
  }
};

async function rgba(name, width, height) {
  const bytes = new Uint8ClampedArray(await (await fetch(`./fixtures/${name}`)).arrayBuffer());
  if (bytes.length !== width * height * 4) throw new Error(`${name}: ${bytes.length} bytes, not ${width}x${height} RGBA`);
  return new ImageData(bytes, width, height);
}

// Pixels travel back as base64: a 600x400 result is 1.3 MB of text instead of a million-number JSON array.
function base64(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

// What the engine offers: navigator.gpu absent, there but null (WebKitGTK with its WebGPU preview switched on and no
// backend built in), or there, with or without an adapter.
async function webgpu() {
  if (!('gpu' in navigator)) return { api: 'absent', adapter: null };
  if (!navigator.gpu) return { api: String(navigator.gpu), adapter: null };
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { api: 'present', adapter: null };
    const info = adapter.info ?? {};
    return { api: 'present', adapter: { vendor: info.vendor, architecture: info.architecture, fallback: Boolean(adapter.isFallbackAdapter ?? info.isFallbackAdapter) } };
  } catch (error) {
    return { api: 'present', adapter: null, error: String(error) };
  }
}

window.enginesTest = {
  // What this engine offers, and whether a request for a host outside 127.0.0.1 gets anywhere (it must not).
  async environment() {
    let outside;
    try {
      const response = await fetch('http://vitrine-outside.invalid/probe', { cache: 'no-store' });
      outside = `answered (${response.type} ${response.status})`;
    } catch (error) {
      outside = `refused (${error.name})`;
    }
    return { userAgent: navigator.userAgent, webgpu: await webgpu(), outside };
  },

  // RGBA bytes of an image the engine decodes at its natural size (used in Chromium to make the mid-size input).
  async decode(url) {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(img, 0, 0);
    const { data, width, height } = ctx.getImageData(0, 0, img.naturalWidth, img.naturalHeight);
    return { width, height, data: base64(new Uint8Array(data.buffer)) };
  },

  // The core on `backend`: create, each case (a preset, a mix, a style vector; `cases` from the test) and, with
  // `extras`, the error codes. Each result comes back as base64 RGBA with its size and time.
  async core(backend, cases, extras) {
    const stages = [];
    let started = performance.now();
    const styler = await Styler.create({ backend, onProgress: (event) => stages.push(event.stage) });
    const report = { backend: styler.backend, precision: styler.precision, fallbackReason: styler.fallbackReason, createMs: performance.now() - started, stages, results: {} };
    for (const { name, input, width, height, style } of cases) {
      const image = await rgba(input, width, height);
      started = performance.now();
      // The whole frame painted, as onnxruntime paints it (a studio backdrop is kept by default).
      const result = await styler.stylize(image, { style, background: 'paint' });
      report.results[name] = {
        ms: performance.now() - started,
        width: result.width,
        height: result.height,
        isImageData: result instanceof ImageData,
        data: base64(new Uint8Array(result.data.buffer, result.data.byteOffset, result.data.byteLength)),
      };
    }
    if (extras) {
      const { input, width, height } = cases[0];
      const image = await rgba(input, width, height);
      const vector = (patch) => ({ format: 'vitrine-style', version: 1, model: 'arbitrary_transform', vector: [1, 2], ...patch });
      report.errors = {
        styleIndex: await codeOf(styler.stylize(image, { style: 26 })),
        styleWeights: await codeOf(styler.stylize(image, { style: { 3: -1 } })),
        strength: await codeOf(styler.stylize(image, { style: 3, strength: 2 })),
        tooSmall: await codeOf(styler.stylize(new ImageData(2, 2))),
        badImage: await codeOf(styler.stylize('photo.jpg')),
        maxSize: await codeOf(styler.stylize(image, { maxSize: -1 })),
        background: await codeOf(styler.stylize(image, { background: 'grey' })),
        vectorVersion: await codeOf(styler.stylize(image, { style: vector({ version: 2 }) })),
        vectorNaN: await codeOf(styler.stylize(image, { style: vector({ vector: [1, NaN] }) })),
        backend: await codeOf(Styler.create({ backend: 'gpu' })),
        modelFormat: await codeOf(Styler.create({ backend: 'cpu', model: new Uint8Array([1, 2, 3]) })),
        modelFetch: await codeOf(Styler.create({ backend: 'cpu', model: './no-such-model.safetensors' })),
      };
      styler.free();
      report.errors.freed = await codeOf(styler.stylize(image));
    } else {
      styler.free();
    }
    return report;
  },

  // 'auto' (its backend and reason) and what asking for 'webgpu' outright gives.
  async auto() {
    const styler = await Styler.create({ backend: 'auto' });
    const report = { backend: styler.backend, fallbackReason: styler.fallbackReason };
    styler.free();
    report.webgpu = await codeOf(Styler.create({ backend: 'webgpu' }));
    return report;
  },

  // Every host the page fetched from, and the errors it raised.
  after() {
    const hosts = performance.getEntriesByType('resource').map((entry) => new URL(entry.name).host);
    return { hosts: [...new Set(hosts)], errors };
  },
};
window.enginesReady = true;
