// vitrine: painted looks for product photos, on WebGPU or on the CPU (WebAssembly), in the browser.
// A thin layer over the Rust bindings: it fetches the models, turns any image source into RGBA bytes, scales to
// maxSize and back, and runs one call at a time. Every option is checked, and every error coded, on the Rust side.
//
// The preset model loads with the Styler. The arbitrary-style pair loads on first use: the transformer (about
// 180 KB gzipped) with the first style vector, the style predictor (about 2.3 MB) only for styleFromImage or a
// style vector at strength below 1. A page that only uses presets downloads neither.
import init, { WasmStyler } from './vitrine_wasm.js';

const MODEL_URL = new URL('./multistyle26.vitrine.safetensors', import.meta.url);
const TRANSFORM_URL = new URL('./arbitrary_transform.vitrine.safetensors', import.meta.url);
const PREDICTOR_URL = new URL('./arbitrary_predict.vitrine.safetensors', import.meta.url);
// A style picture is read as a 256 px square: larger pictures are scaled to this first, so no size is refused.
const STYLE_PICTURE_MAX_SIDE = 2048;
const WASM_URL = new URL('./vitrine_wasm_bg.wasm', import.meta.url);
const CONSTRUCT = Symbol('vitrine.Styler');

function codedError(code, message, cause) {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  error.code = code;
  return error;
}

// Errors from the Rust side already carry a code; anything else (a browser API failing, a panic) gets one here.
function coded(error) {
  if (error instanceof Error && typeof error.code === 'string') return error;
  if (error instanceof WebAssembly.RuntimeError) {
    return codedError('INTERNAL', `vitrine stopped on an internal error (${error.message}); the details are in the console; create a new Styler`, error);
  }
  const message = error instanceof Error ? error.message : String(error);
  return codedError('INTERNAL', `vitrine failed unexpectedly (${message}); create a new Styler and try again`, error);
}

let wasmReady = null;
function loadWasm() {
  if (!wasmReady) {
    wasmReady = init({ module_or_path: WASM_URL }).catch((cause) => {
      wasmReady = null;
      throw codedError('WASM_LOAD', `could not load ${WASM_URL} (${cause && cause.message ? cause.message : cause}); serve the package's files together, .wasm as application/wasm`, cause);
    });
  }
  return wasmReady;
}

// `which` is 'presets', 'transform' or 'predictor': the option that gave the model, and the progress events' `model`.
const OPTION_NAMES = { presets: 'model', transform: 'transformModel', predictor: 'predictorModel' };

function checkModelOption(model, which) {
  if (model === undefined || model instanceof Uint8Array || model instanceof ArrayBuffer || typeof model === 'string' || model instanceof URL) return;
  throw codedError('BAD_OPTION', `${OPTION_NAMES[which]} must be a URL (a string or URL object) or the bytes of a model file (a Uint8Array); leave it out for the one in this package`);
}

async function modelBytes(model, which, report) {
  if (model instanceof Uint8Array) return model;
  if (model instanceof ArrayBuffer) return new Uint8Array(model);
  checkModelOption(model, which);
  let response;
  try {
    response = await fetch(model);
  } catch (cause) {
    throw codedError('MODEL_FETCH', `could not fetch the model from ${model} (${cause.message}); check the URL, and CORS if it is on another origin`, cause);
  }
  if (!response.ok) {
    throw codedError('MODEL_FETCH', `fetching the model from ${model} gave HTTP ${response.status}; check the URL`);
  }
  // Content-Length counts encoded bytes; with gzip on the wire the total is unknown (0).
  const total = response.headers.get('content-encoding') ? 0 : Number(response.headers.get('content-length')) || 0;
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      report({ stage: 'model', model: which, loaded, total });
    }
  } catch (cause) {
    throw codedError('MODEL_FETCH', `the model download from ${model} broke off (${cause.message}); try again`, cause);
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function canvas(width, height) {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const element = document.createElement('canvas');
  element.width = width;
  element.height = height;
  return element;
}

function context2d(target) {
  const ctx = target.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw codedError('BAD_IMAGE', 'this browser could not give vitrine a 2D canvas to read the image with; pass an ImageData instead');
  return ctx;
}

const isA = (name, value) => typeof globalThis[name] === 'function' && value instanceof globalThis[name];

// Any accepted image source as { width, height, data } RGBA8.
async function pixelsOf(image) {
  if (isA('ImageData', image)) return image;
  if (image && typeof image === 'object' && 'data' in image && 'width' in image && 'height' in image &&
      (image.data instanceof Uint8ClampedArray || image.data instanceof Uint8Array)) {
    return image;
  }
  let width;
  let height;
  if (isA('HTMLImageElement', image)) {
    if (!image.complete || image.naturalWidth === 0) {
      try {
        await image.decode();
      } catch (cause) {
        throw codedError('BAD_IMAGE', `the <img> (${image.currentSrc || image.src || 'no src'}) could not be decoded; wait for it to load, and check its URL`, cause);
      }
    }
    [width, height] = [image.naturalWidth, image.naturalHeight];
  } else if (isA('ImageBitmap', image) || isA('HTMLCanvasElement', image) || isA('OffscreenCanvas', image)) {
    [width, height] = [image.width, image.height];
  } else {
    throw codedError('BAD_IMAGE', 'image must be an ImageData, ImageBitmap, HTMLCanvasElement, OffscreenCanvas or HTMLImageElement');
  }
  // An empty image goes on to the size check, which says how large an image must be.
  if (!width || !height) return { width: width || 0, height: height || 0, data: new Uint8ClampedArray(0) };
  try {
    const ctx = context2d(canvas(width, height));
    ctx.drawImage(image, 0, 0, width, height);
    return ctx.getImageData(0, 0, width, height);
  } catch (cause) {
    if (cause && cause.code === 'BAD_IMAGE') throw cause;
    const hint = cause && cause.name === 'SecurityError'
      ? 'the image comes from another origin without CORS; load it with crossOrigin = "anonymous" from a server that allows it'
      : 'pass an ImageData instead';
    throw codedError('BAD_IMAGE', `could not read the image's pixels (${cause && cause.message}); ${hint}`, cause);
  }
}

function resized(pixels, width, height) {
  const source = context2d(canvas(pixels.width, pixels.height));
  source.putImageData(pixels instanceof ImageData ? pixels : new ImageData(new Uint8ClampedArray(pixels.data), pixels.width, pixels.height), 0, 0);
  const target = context2d(canvas(width, height));
  target.imageSmoothingEnabled = true;
  target.imageSmoothingQuality = 'high';
  target.drawImage(source.canvas, 0, 0, width, height);
  return target.getImageData(0, 0, width, height);
}

// A style picture within STYLE_PICTURE_MAX_SIDE (the predictor reads its centred square at 256 px).
function styleSized(pixels) {
  const { width, height } = pixels;
  const scale = STYLE_PICTURE_MAX_SIDE / Math.max(width, height);
  if (!(scale < 1)) return pixels;
  return resized(pixels, Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)));
}

function imageData(bytes, width, height) {
  return new ImageData(new Uint8ClampedArray(bytes.buffer, bytes.byteOffset, bytes.byteLength), width, height);
}

export class Styler {
  #inner;
  #queue = Promise.resolve();
  #styles;
  #backend;
  #fallbackReason;
  #report;
  #models;

  /** Use `await Styler.create(options)`. */
  constructor(token, inner, models = {}, report = () => {}) {
    if (token !== CONSTRUCT) throw codedError('BAD_OPTION', 'create a Styler with `await Styler.create(options)`');
    this.#inner = inner;
    this.#models = models;
    this.#report = report;
    this.#sync();
    this.#styles = Object.freeze(inner.styles().map(({ id, name, thumbnail }) => Object.freeze({
      id,
      name,
      thumbnail: thumbnail === null ? null : new URL(thumbnail, import.meta.url).href,
    })));
  }

  static async create({ backend = 'auto', model, transformModel, predictorModel, tileSize, onProgress } = {}) {
    const report = (event) => {
      if (typeof onProgress === 'function') {
        try {
          onProgress(event);
        } catch (error) {
          console.error('vitrine: onProgress threw', error);
        }
      }
    };
    checkModelOption(transformModel, 'transform');
    checkModelOption(predictorModel, 'predictor');
    report({ stage: 'wasm' });
    await loadWasm();
    const bytes = await modelBytes(model ?? MODEL_URL, 'presets', report);
    report({ stage: 'backend' });
    let inner;
    try {
      inner = await WasmStyler.create(bytes, String(backend), tileSize);
    } catch (error) {
      throw coded(error);
    }
    const models = { transform: transformModel ?? TRANSFORM_URL, predictor: predictorModel ?? PREDICTOR_URL };
    const styler = new Styler(CONSTRUCT, inner, models, report);
    report({ stage: 'ready', backend: styler.backend });
    return styler;
  }

  /** 'webgpu' or 'cpu': what the next call runs on. */
  get backend() {
    return this.#backend;
  }

  /** Why the CPU runs although WebGPU was allowed ('auto', or after the GPU was lost), else null. */
  get fallbackReason() {
    return this.#fallbackReason;
  }

  /** The preset styles: [{ id, name, thumbnail }], thumbnail an absolute URL of a small JPEG (or null). */
  get styles() {
    return this.#styles;
  }

  /** Styles `image`; resolves to an ImageData of the image's size, alpha kept. Calls run one after another. */
  stylize(image, options = {}) {
    const run = this.#queue.then(() => this.#stylize(image, options ?? {}));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** The style of a picture, as a style vector a shop can save (`JSON.stringify`) and pass as `style` later:
   * `{ format: 'vitrine-style', version: 1, model: 'arbitrary_transform', vector: [100 numbers] }`. Loads the
   * arbitrary-style models on first use. The picture's centred square is what counts. */
  styleFromImage(image) {
    const run = this.#queue.then(() => this.#styleFromImage(image));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** What `stylize` would return with `strength` and `preserveColor`, from a full-strength result of the same photo,
   * without running the network again. */
  finish(photo, fullStrength, { strength = 1, preserveColor = false } = {}) {
    this.#live();
    if (!(photo instanceof ImageData) || !(fullStrength instanceof ImageData)
        || photo.width !== fullStrength.width || photo.height !== fullStrength.height) {
      throw codedError('BAD_IMAGE', 'finish takes the photo and its full-strength result from stylize, as ImageData of one size');
    }
    const { width, height } = photo;
    try {
      return imageData(WasmStyler.finish(width, height, photo.data, fullStrength.data, strength, Boolean(preserveColor)), width, height);
    } catch (error) {
      throw coded(error);
    }
  }

  /** Releases the wasm memory and GPU resources once the calls already made have finished. */
  free() {
    const inner = this.#inner;
    if (!inner) return;
    this.#inner = null;
    this.#queue = this.#queue.then(() => inner.free());
  }

  /** Tuning aid: how the preset network runs an image styled at `width` x `height` (the working size, after
   * `maxSize`): `{ mode: 'whole' | 'layered' | 'streamed', tiles, tileSize, halo, hostBytes, deviceBufferBytes }`.
   * Queued behind the calls already made, which hold the wasm side while they run. */
  tilePlan(width, height) {
    const run = this.#queue.then(() => {
      try {
        return this.#live().tilePlan(width, height);
      } catch (error) {
        throw coded(error);
      }
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Testing aid: destroys the GPU device, as a driver reset would; the next call recovers. False on the CPU. */
  simulateDeviceLoss() {
    return this.#live().loseDevice();
  }

  #live() {
    if (!this.#inner) throw codedError('FREED', 'this Styler was freed; create a new one with Styler.create()');
    return this.#inner;
  }

  #sync() {
    const before = this.#backend;
    this.#backend = this.#inner.backend;
    this.#fallbackReason = this.#inner.fallbackReason ?? null;
    if (before === 'webgpu' && this.#backend === 'cpu') {
      console.warn(`vitrine: now styling on the CPU: ${this.#fallbackReason}`);
    }
  }

  // Loads what a call needs of the arbitrary-style pair: 'vector' (the transformer) or 'predictor' (both).
  async #ensure(inner, needs) {
    if (needs === 'presets') return;
    if (!inner.hasVectorModel) {
      await inner.loadVectorModel(await modelBytes(this.#models.transform, 'transform', this.#report));
    }
    if (needs === 'predictor' && !inner.hasPredictor) {
      await inner.loadPredictor(await modelBytes(this.#models.predictor, 'predictor', this.#report));
    }
  }

  async #styleFromImage(image) {
    const inner = this.#live();
    try {
      const picture = styleSized(await pixelsOf(image));
      await this.#ensure(inner, 'predictor');
      return await inner.styleVector(picture.width, picture.height, picture.data);
    } catch (error) {
      throw coded(error);
    } finally {
      if (this.#inner) this.#sync();
    }
  }

  async #stylize(image, { style, strength, preserveColor = false, maxSize } = {}) {
    const inner = this.#live();
    try {
      // The style and strength are checked before any model is fetched or any pixel read.
      const needs = WasmStyler.styleNeeds(style, strength);
      const photo = await pixelsOf(image);
      await this.#ensure(inner, needs);
      const { width, height } = photo;
      const [w, h] = WasmStyler.workingSize(width, height, maxSize);
      if (w === width && h === height) {
        return imageData(await inner.stylize(width, height, photo.data, style, strength, Boolean(preserveColor)), width, height);
      }
      // Styled at the working size, scaled back up opaque (so no colour bleeds in from transparent pixels), then
      // blended with the full-size photo and given its alpha. A preset's strength fades pixels, so the network
      // paints at full strength; a style vector's strength blends vectors, so it goes into the network.
      const small = resized(photo, w, h);
      const vector = needs !== 'presets';
      const styled = await inner.stylize(w, h, small.data, style, vector ? strength : 1, false);
      for (let i = 3; i < styled.length; i += 4) styled[i] = 255;
      const large = resized(imageData(styled, w, h), width, height);
      const finishStrength = vector ? 1 : strength;
      return imageData(WasmStyler.finish(width, height, photo.data, large.data, finishStrength, Boolean(preserveColor)), width, height);
    } catch (error) {
      throw coded(error);
    } finally {
      if (this.#inner) this.#sync();
    }
  }
}

export default Styler;
