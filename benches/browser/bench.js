// The browser benchmark's page: one engine per page load (so the cold start is cold), driven by
// benches/browser/run.mjs through window.bench. Both engines get the same ImageData (www/samples/coffee.jpg,
// centre-cropped and scaled by the same canvas) and return an RGBA8 ImageData of the same size: vitrine's
// `styler.stylize`, and for onnxruntime-web the pixels turned into the planar float input the ONNX file takes,
// `session.run`, and the output turned back into pixels, as an app would.

const STYLE = 19;
const STYLES = 26;

const now = () => performance.now();

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function photo(size) {
  const bitmap = await createImageBitmap(await (await fetch('./coffee.jpg')).blob());
  const side = Math.min(bitmap.width, bitmap.height);
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, size, size);
  return ctx.getImageData(0, 0, size, size);
}

function base64(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

// Styles each size: the first image of the first size is the cold start (timed from before the import), then
// `warmup` untimed images and `runs` timed ones per size.
async function measure(open, sizes, runs, warmup) {
  const images = [];
  for (const size of sizes) images.push(await photo(size));
  const started = now();
  const stylize = await open();
  const createMs = now() - started;
  await stylize(images[0]);
  const coldMs = now() - started;
  const results = [];
  for (const image of images) {
    for (let i = 0; i < warmup; i += 1) await stylize(image);
    const times = [];
    let output;
    for (let i = 0; i < runs; i += 1) {
      const t = now();
      output = await stylize(image);
      times.push(now() - t);
    }
    results.push({ size: image.width, times, medianMs: median(times), output: base64(output.data) });
  }
  return { createMs, coldMs, results };
}

async function vitrine({ backend, kernels, sizes, runs, warmup }) {
  let info = {};
  const report = await measure(async () => {
    const { Styler } = await import('./pkg/vitrine.js');
    const styler = await Styler.create({ backend, kernels });
    info = { backend: styler.backend, precision: styler.precision, fallbackReason: styler.fallbackReason ?? null };
    // onnxruntime-web paints whole frames, so the comparison does too.
    return (image) => styler.stylize(image, { style: STYLE, background: 'paint' });
  }, sizes, runs, warmup);
  return { ...report, ...info };
}

async function onnxruntime({ ep, threads, sizes, runs, warmup }) {
  let info = {};
  const report = await measure(async () => {
    // The WebGPU provider ships in ort.webgpu.min.mjs (MODELS.md: the older JSEP build in ort.min.mjs is wrong on
    // other models); the wasm provider alone in the smaller ort.wasm.min.mjs, as an app using only it would load.
    const ort = await import(ep === 'webgpu' ? './ort/ort.webgpu.min.mjs' : './ort/ort.wasm.min.mjs');
    ort.env.wasm.wasmPaths = new URL('./ort/', location.href).href;
    ort.env.wasm.numThreads = threads;
    ort.env.logLevel = 'error';
    const session = await ort.InferenceSession.create('./multistyle26.onnx', { executionProviders: [ep] });
    info = { version: ort.env.versions?.web ?? null, crossOriginIsolated };
    const weights = new Float32Array(STYLES);
    weights[STYLE] = 1;
    const styleWeights = new ort.Tensor('float32', weights, [STYLES]);
    return async (image) => {
      const { width, height, data } = image;
      const plane = width * height;
      const planar = new Float32Array(3 * plane);
      for (let i = 0; i < plane; i += 1) {
        planar[i] = data[4 * i] / 255;
        planar[plane + i] = data[4 * i + 1] / 255;
        planar[2 * plane + i] = data[4 * i + 2] / 255;
      }
      const outputs = await session.run({ image: new ort.Tensor('float32', planar, [1, 3, height, width]), style_weights: styleWeights });
      const out = await outputs.stylized.getData();
      const rgba = new Uint8ClampedArray(4 * plane);
      for (let i = 0; i < plane; i += 1) {
        // Uint8ClampedArray rounds to nearest and clamps to 0..255.
        rgba[4 * i] = out[i] * 255;
        rgba[4 * i + 1] = out[plane + i] * 255;
        rgba[4 * i + 2] = out[2 * plane + i] * 255;
        rgba[4 * i + 3] = 255;
      }
      for (const tensor of Object.values(outputs)) tensor.dispose?.();
      return new ImageData(rgba, width, height);
    };
  }, sizes, runs, warmup);
  return { ...report, ...info };
}

window.bench = { vitrine, onnxruntime };
window.benchReady = true;
