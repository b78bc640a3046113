// vitrine's engine: painted looks for product photos, on WebGPU or on the CPU (WebAssembly), in the browser.
// A thin layer over the Rust bindings: it fetches the models, turns any image source into RGBA bytes, scales to
// maxSize and back, runs one call at a time and gives up on a GPU call that never settles. Every style and image
// option is checked, and every error coded, on the Rust side; the JS-only options (gpuTimeout, the model sources)
// are checked here.
//
// Two entries share this module: `vitrine` (vitrine.js) gives the Styler the arbitrary-style pair's URLs, and
// `vitrine/presets` (presets.js) gives none, so a bundler building a presets-only app never copies those files.
// The preset model loads with the Styler. The arbitrary-style pair loads on first use: the transformer (about
// 180 KB gzipped) with the first style vector, the style predictor (about 2.3 MB) only for styleFromImage or a
// style vector at strength below 1. A page that only uses presets downloads neither.
// Both written at build time (wasm-bindgen, build.mjs), so the type check of www/lib does not see them.
// @ts-ignore
import init, { WasmLive, WasmStyler } from './vitrine_wasm.js';
// @ts-ignore
import { THUMBNAILS } from './thumbnails.js';
import { startLive } from './live.js';

const MODEL_URL = new URL('./multistyle26.vitrine.safetensors', import.meta.url);
const WASM_URL = new URL('./vitrine_wasm_bg.wasm', import.meta.url);
// A style picture is read as a 256 px square: larger pictures are scaled to this first, so no size is refused.
const STYLE_PICTURE_MAX_SIDE = 2048;
// How long one GPU call (opening the device, a styling, a style vector) may take before vitrine gives up on it with
// GPU_FAILED. A 1024 px photo takes well under a second on a laptop's GPU; two minutes leaves room for a weak GPU
// and a tiled full-size photo, and still ends a call a driver has dropped. `gpuTimeout` changes it.
const DEFAULT_GPU_TIMEOUT_MS = 120_000;
// setTimeout's largest delay; beyond it a timer fires at once.
const MAX_TIMER_MS = 2 ** 31 - 1;
const CONSTRUCT = Symbol('vitrine.Styler');
/** Where an entry module puts the default URLs of the arbitrary-style pair: a static property of its Styler. */
export const ARBITRARY_MODELS = Symbol('vitrine.arbitraryModels');

const CODES = new Set([
  'MODEL_FORMAT', 'MODEL_VERSION', 'MODEL_GRAPH', 'MODEL_FETCH', 'WASM_LOAD', 'STYLE_INDEX', 'STYLE_WEIGHTS',
  'STYLE_VECTOR', 'STYLE_KIND', 'STRENGTH', 'IMAGE_TOO_SMALL', 'IMAGE_TOO_LARGE', 'BAD_IMAGE', 'BAD_OPTION',
  'GPU_UNAVAILABLE', 'GPU_BUFFER_LIMIT', 'GPU_FAILED', 'FREED', 'INTERNAL',
]);

/** Every error vitrine throws or rejects with: `code` is stable (see ErrorCode), `message` says what to do. */
export class VitrineError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'VitrineError';
    this.code = code;
  }
}

/** True for a VitrineError, and for an Error with one of vitrine's codes that crossed a realm (an iframe, a
 * worker's message rebuilt as an Error). */
export function isVitrineError(value) {
  if (value instanceof VitrineError) return true;
  const isError = value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
  return isError && CODES.has(value.code);
}

function codedError(code, message, cause) {
  return new VitrineError(code, message, cause === undefined ? undefined : { cause });
}

// Errors from the Rust side carry a code on a plain Error and become VitrineErrors here; anything else (a browser
// API failing, a panic) gets a code too.
function coded(error) {
  if (error instanceof VitrineError) return error;
  if (error instanceof Error && CODES.has(error['code'])) return codedError(error['code'], error.message);
  if (error instanceof WebAssembly.RuntimeError) {
    return codedError('INTERNAL', `vitrine stopped on an internal error (${error.message}); the details are in the console; create a new Styler`, error);
  }
  const message = error instanceof Error ? error.message : String(error);
  return codedError('INTERNAL', `vitrine failed unexpectedly (${message}); create a new Styler and try again`, error);
}

// Content Security Policy violations seen while `work` runs, so a failure they caused can say so. The events come
// as a task of their own, possibly after the failure itself: one more task is waited for.
async function watchingPolicy(work) {
  const violations = [];
  const listen = typeof globalThis.addEventListener === 'function';
  const record = (event) => violations.push(`${event.effectiveDirective || event.violatedDirective} (blocked ${event.blockedURI || 'inline'})`);
  if (listen) globalThis.addEventListener('securitypolicyviolation', record);
  try {
    return { value: await work(), violations };
  } catch (cause) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    return { cause, violations };
  } finally {
    if (listen) globalThis.removeEventListener('securitypolicyviolation', record);
  }
}

const CSP_HINT = "see the package README's Content Security Policy section";
const isPolicyMessage = (cause) => /Content Security Policy|unsafe-eval|\bCSP\b/i.test(String(cause?.message ?? cause));

// A page or a worker; not Node, Bun or Deno running server-side code, where the files cannot be fetched as a
// browser does and there is no WebGPU or canvas.
const inBrowser = () => typeof document !== 'undefined' || typeof globalThis['WorkerGlobalScope'] !== 'undefined';

let wasmReady = null;
function loadWasm() {
  if (!inBrowser()) {
    return Promise.reject(codedError('WASM_LOAD', 'vitrine runs in a browser (a page or a module worker), not on a server; importing it during server-side rendering is fine, but create the Styler in the browser'));
  }
  if (!wasmReady) {
    wasmReady = watchingPolicy(() => init({ module_or_path: WASM_URL })).then(({ value, cause, violations }) => {
      if (cause === undefined) return value;
      wasmReady = null;
      const detail = cause && cause.message ? cause.message : String(cause);
      if (violations.some((v) => v.startsWith('script-src')) || isPolicyMessage(cause)) {
        throw codedError('WASM_LOAD', `the page's Content Security Policy does not let WebAssembly run (${detail}); add 'wasm-unsafe-eval' to its script-src (script-src 'self' 'wasm-unsafe-eval'); ${CSP_HINT}`, cause);
      }
      if (violations.length > 0) {
        throw codedError('WASM_LOAD', `the page's Content Security Policy blocked ${WASM_URL} (${violations.join(', ')}); allow the package's origin in connect-src (connect-src 'self' when it is self-hosted); ${CSP_HINT}`, cause);
      }
      throw codedError('WASM_LOAD', `could not load ${WASM_URL} (${detail}); serve the package's files together, .wasm as application/wasm`, cause);
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

// The `gpuTimeout` option in milliseconds: Infinity (no limit) past what a timer can wait.
function gpuTimeoutOf(value) {
  if (value === undefined) return DEFAULT_GPU_TIMEOUT_MS;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw codedError('BAD_OPTION', `gpuTimeout must be a positive number of milliseconds (Infinity for no limit), not ${typeof value === 'string' ? JSON.stringify(value) : String(value)}; leave it out for ${DEFAULT_GPU_TIMEOUT_MS / 1000} s`);
  }
  return value > MAX_TIMER_MS ? Infinity : value;
}

async function modelBytes(model, which, report) {
  if (model instanceof Uint8Array) return model;
  if (model instanceof ArrayBuffer) return new Uint8Array(model);
  checkModelOption(model, which);
  const { value: response, cause, violations } = await watchingPolicy(() => fetch(model));
  if (cause !== undefined) {
    if (violations.length > 0) {
      throw codedError('MODEL_FETCH', `the page's Content Security Policy blocked the model at ${model} (${violations.join(', ')}); allow its origin in connect-src (connect-src 'self' when it is self-hosted); ${CSP_HINT}`, cause);
    }
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

// Settles as `pending` does, or rejects with `TIMED_OUT` after `ms`.
const TIMED_OUT = Symbol('vitrine.timedOut');
function withinTime(pending, ms) {
  if (ms === Infinity) return pending;
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(TIMED_OUT), ms);
  });
  return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
}

const seconds = (ms) => `${Number((ms / 1000).toPrecision(3))} s`;

// A wasm object still held by a call that never settled cannot be freed now: it is freed if the call ever ends.
function release(inner, pending) {
  const free = () => {
    try {
      inner.free();
    } catch (error) {
      console.warn('vitrine: could not release a styler', error);
    }
  };
  if (pending) pending.then(free, free);
  else free();
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

// The result with what was done with its backdrop, `{ mode, applied, product, reason }` (the CLI's --json
// "background" record), as a read-only property of the ImageData.
function reported(image, background) {
  return Object.defineProperty(image, 'background', { value: Object.freeze(background), enumerable: true });
}

// A checksum of an image's pixels (FNV-1a over 32-bit words), so a cached analysis is never used for an ImageData
// whose pixels were written since.
function checksum(data) {
  const aligned = data.byteOffset % 4 === 0 ? data : data.slice();
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >>> 2);
  let hash = 0x811c9dc5;
  for (let i = 0; i < words.length; i += 1) hash = Math.imul(hash ^ words[i], 0x01000193);
  return hash >>> 0;
}

export class Styler {
  #inner;
  // A call on #inner passed the GPU timeout and still holds it: the next call replaces it (#current).
  #hung = false;
  #freed = false;
  #queue = Promise.resolve();
  #styles;
  #backend;
  #precision;
  #fallbackReason;
  #report;
  #models;
  // What #current needs to open a new wasm styler after a hung call: the preset model's bytes and the options.
  #setup;
  // The network's stride product and smallest side, read once (a getter must not borrow a styler mid-call).
  #shape;
  // The full-size backdrop analysis of a photo (an ImageData) per mode, with its pixels' checksum: a strength
  // slider's finish calls analyse the photo once.
  #backdrops = new WeakMap();

  /** Use `await Styler.create(options)`. */
  constructor(token, inner, setup, report = () => {}) {
    if (token !== CONSTRUCT) throw codedError('BAD_OPTION', 'create a Styler with `await Styler.create(options)`');
    this.#inner = inner;
    this.#setup = setup;
    this.#models = setup.models;
    this.#report = report;
    this.#shape = { multiple: inner.spatialMultiple, minSide: inner.minSide };
    this.#sync();
    // Each thumbnail through THUMBNAILS (one `new URL` literal per file), so a bundler emits the files.
    this.#styles = Object.freeze(inner.styles().map(({ id, name, thumbnail }) => Object.freeze({
      id,
      name,
      thumbnail: thumbnail === null ? null : (THUMBNAILS[thumbnail] ?? new URL(thumbnail, import.meta.url)).href,
    })));
  }

  /** @param {import('./vitrine.js').CreateOptions} [options] */
  static async create({ backend = 'auto', model, transformModel, predictorModel, tileSize, gpuTimeout, onProgress, kernels } = {}) {
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
    const timeoutMs = gpuTimeoutOf(gpuTimeout);
    report({ stage: 'wasm' });
    await loadWasm();
    const bytes = await modelBytes(model ?? MODEL_URL, 'presets', report);
    report({ stage: 'backend' });
    const choice = String(backend);
    let inner;
    try {
      // Opening WebGPU (an adapter, a device) is a GPU call too: a browser can leave it unanswered.
      const opening = WasmStyler.create(bytes, choice, tileSize);
      inner = await (choice === 'cpu' ? opening : withinTime(opening, timeoutMs));
    } catch (error) {
      if (error === TIMED_OUT) {
        throw codedError('GPU_FAILED', `the browser did not open WebGPU within ${seconds(timeoutMs)} (gpuTimeout); try again, or use backend: 'cpu'`);
      }
      throw coded(error);
    }
    // A diagnostic for benchmarks: the GPU kernels to record ('fused', the default, or 'baseline').
    if (kernels !== undefined) {
      try {
        inner.useKernels(String(kernels));
      } catch (error) {
        inner.free();
        throw coded(error);
      }
    }
    const defaults = this[ARBITRARY_MODELS] ?? {};
    const models = { transform: transformModel ?? defaults.transform, predictor: predictorModel ?? defaults.predictor };
    const styler = new this(CONSTRUCT, inner, { bytes, choice, tileSize, timeoutMs, models }, report);
    report({ stage: 'ready', backend: styler.backend });
    return styler;
  }

  /** 'webgpu' or 'cpu': what the next call runs on. */
  get backend() {
    return this.#backend;
  }

  /** 'f16' or 'f32': how the network stores its activations where it runs (f16 on WebGPU adapters with shader-f16). */
  get precision() {
    return this.#precision;
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
    return this.#enqueue(() => this.#stylize(image, options ?? {}));
  }

  /** The style of a picture, as a style vector a shop can save (`JSON.stringify`) and pass as `style` later:
   * `{ format: 'vitrine-style', version: 1, model: 'arbitrary_transform', vector: [100 numbers] }`. Loads the
   * arbitrary-style models on first use. The picture's centred square is what counts. */
  styleFromImage(image) {
    return this.#enqueue(() => this.#styleFromImage(image));
  }

  /** What `stylize` would return with `strength` and `preserveColor`, from a full-strength result of the same photo,
   * without running the network again. `background` is the mode the result was made with (default: the one its
   * report names, else 'auto'): the result fades to the photo as that mode treats its backdrop (through the
   * photo's matte), so a kept backdrop stays the photo's, a white one 255 and a cut-out transparent.
   * @param {ImageData} photo
   * @param {ImageData} fullStrength
   * @param {{ strength?: number, preserveColor?: boolean, background?: import('./vitrine.js').BackgroundMode }} [options]
   */
  finish(photo, fullStrength, { strength = 1, preserveColor = false, background } = {}) {
    this.#checkLive();
    if (!(photo instanceof ImageData) || !(fullStrength instanceof ImageData)
        || photo.width !== fullStrength.width || photo.height !== fullStrength.height) {
      throw codedError('BAD_IMAGE', 'finish takes the photo and its full-strength result from stylize, as ImageData of one size');
    }
    const { width, height } = photo;
    try {
      const mode = WasmStyler.checkBackground(background ?? fullStrength['background']?.mode);
      WasmStyler.checkStrength(strength);
      const backdrop = this.#backdrop(photo, mode);
      const bytes = WasmStyler.finish(width, height, photo.data, fullStrength.data, strength, Boolean(preserveColor), mode, backdrop.matte ?? undefined);
      return reported(imageData(bytes, width, height), backdrop.background);
    } catch (error) {
      throw coded(error);
    }
  }

  /** Styles a camera feed or a product video as it plays, into `canvas` (see live.js): resolves to a session with
   * `update(options)`, `push(frame)`, `snapshot()`, `stop()` and `stats`. */
  live(source, canvas, options = {}) {
    if (this.#freed) return Promise.reject(codedError('FREED', 'this Styler was freed; create a new one with Styler.create()'));
    const styler = this;
    const engine = {
      get backend() {
        return styler.#backend;
      },
      multiple: this.#shape.multiple,
      minSide: this.#shape.minSide,
      // The still path: a queued stylize and the GPU readbacks it made, counted by the executor (read while no
      // call holds the styler; 0 on the CPU).
      stylize: (image, stylizeOptions) => this.#enqueue(async () => {
        const before = this.#inner.readbacks ?? 0;
        const styled = await this.#stylize(image, stylizeOptions);
        return { styled, readbacks: Math.max(0, (this.#inner?.readbacks ?? 0) - before) };
      }),
      openFrames: (target, settings) => this.#enqueue(() => this.#openFrames(target, settings)),
      checkStyle: (style) => {
        try {
          WasmStyler.checkStyle(style, this.#styles.length);
        } catch (error) {
          throw coded(error);
        }
      },
      codedError,
    };
    return startLive(engine, source, canvas, options ?? {}).catch((error) => {
      throw coded(error);
    });
  }

  // The frame path (WebGPU, no readback) for a live session drawing into `canvas`, or null where there is none.
  // A style vector goes through the still path: the frame path paints presets and their mixes.
  async #openFrames(canvas, { style, strength, preserveColor }) {
    if (this.#backend !== 'webgpu' || typeof WasmLive !== 'function') return null;
    if (WasmStyler.styleNeeds(style, 1) !== 'presets') return null;
    const { bytes, timeoutMs } = this.#setup;
    let inner;
    try {
      inner = await withinTime(WasmLive.create(bytes, canvas, style, strength, Boolean(preserveColor)), timeoutMs);
    } catch (error) {
      if (error === TIMED_OUT) throw codedError('GPU_FAILED', `the browser did not open WebGPU for live frames within ${seconds(timeoutMs)} (gpuTimeout); try again, or use backend: 'cpu'`);
      throw coded(error);
    }
    return {
      draw: async (frame, width, height) => {
        try {
          await withinTime(inner.draw(frame, width, height), timeoutMs);
        } catch (error) {
          if (error === TIMED_OUT) throw codedError('GPU_FAILED', `a live frame did not finish within ${seconds(timeoutMs)} (gpuTimeout); start the session again, or use backend: 'cpu'`);
          throw coded(error);
        }
      },
      update: (next) => {
        try {
          inner.update(next.style, next.strength, Boolean(next.preserveColor));
        } catch (error) {
          throw coded(error);
        }
      },
      readbacks: () => inner.readbacks,
      gpuMs: () => inner.gpuMs,
      free: () => inner.free(),
    };
  }

  /** Releases the wasm memory and GPU resources once the calls already made have finished; calls made after it
   * reject with FREED. Safe to call during a call, and more than once. */
  free() {
    if (this.#freed) return;
    this.#freed = true;
    this.#queue = this.#queue.then(() => {
      const inner = this.#inner;
      this.#inner = null;
      // A hung call's styler is freed by release() when (if) that call ends.
      if (inner && !this.#hung) release(inner);
    });
  }

  /** Tuning aid: how the preset network runs an image styled at `width` x `height` (the working size, after
   * `maxSize`): `{ mode: 'whole' | 'layered' | 'streamed', tiles, tileSize, halo, hostBytes, deviceBufferBytes }`.
   * Queued behind the calls already made, which hold the wasm side while they run. */
  tilePlan(width, height) {
    return this.#enqueue(async () => {
      const inner = await this.#current();
      try {
        return inner.tilePlan(width, height);
      } catch (error) {
        throw coded(error);
      }
    });
  }

  /** Testing aid: destroys the GPU device, as a driver reset would; the next call recovers. False on the CPU. */
  simulateDeviceLoss() {
    this.#checkLive();
    if (this.#hung) return false;
    return this.#inner.loseDevice();
  }

  // Runs `work` after the calls already queued; a call made after free() rejects at once.
  #enqueue(work) {
    if (this.#freed) return Promise.reject(codedError('FREED', 'this Styler was freed; create a new one with Styler.create()'));
    const run = this.#queue.then(work);
    this.#queue = run.catch(() => {});
    return run;
  }

  #checkLive() {
    if (this.#freed) throw codedError('FREED', 'this Styler was freed; create a new one with Styler.create()');
  }

  // The wasm styler for the next call: a new one where a call on the last one never settled (under 'auto', on the
  // CPU, since that GPU stopped answering).
  async #current() {
    if (!this.#hung) return this.#inner;
    const { bytes, choice, tileSize, timeoutMs } = this.#setup;
    const next = choice === 'auto' ? 'cpu' : choice;
    let inner;
    try {
      const opening = WasmStyler.create(bytes, next, tileSize);
      inner = await (next === 'cpu' ? opening : withinTime(opening, timeoutMs));
    } catch (error) {
      if (error === TIMED_OUT) {
        throw codedError('GPU_FAILED', `the browser did not open WebGPU again within ${seconds(timeoutMs)} (gpuTimeout); try again, or use backend: 'cpu'`);
      }
      throw coded(error);
    }
    this.#inner = inner;
    this.#hung = false;
    this.#gpuGaveUp = choice === 'auto'
      ? `the GPU did not finish a call within ${seconds(timeoutMs)} (gpuTimeout), so vitrine styles on the CPU`
      : null;
    this.#sync();
    return inner;
  }

  // Why the CPU runs after a hung GPU call under 'auto' (the new wasm styler, made for the CPU, cannot know).
  #gpuGaveUp = null;

  // Awaits a wasm call that may run on the GPU within the timeout. On timeout the call's wasm styler stays borrowed
  // by it, so it is set aside (freed if the call ever ends) and the next call opens a new one.
  async #gpuCall(inner, call) {
    if (this.#backend !== 'webgpu') return call();
    const pending = call();
    const { timeoutMs, choice } = this.#setup;
    try {
      return await withinTime(pending, timeoutMs);
    } catch (error) {
      if (error !== TIMED_OUT) throw error;
      if (this.#inner === inner) this.#hung = true;
      release(inner, pending);
      const next = choice === 'auto' ? 'the next call styles on the CPU' : 'the next call opens the GPU again';
      throw codedError('GPU_FAILED', `the GPU did not finish within ${seconds(timeoutMs)} (gpuTimeout), so vitrine gave up on this call; ${next}; use backend: 'cpu' if this keeps happening`);
    }
  }

  #sync() {
    const before = this.#backend;
    this.#backend = this.#inner.backend;
    this.#precision = this.#inner.precision;
    this.#fallbackReason = this.#inner.fallbackReason ?? this.#gpuGaveUp ?? null;
    if (before === 'webgpu' && this.#backend === 'cpu') {
      console.warn(`vitrine: now styling on the CPU: ${this.#fallbackReason}`);
    }
  }

  // The backdrop analysis of the full-size `photo` under `mode` ({ background, matte }), kept per ImageData while
  // its pixels stay the same.
  #backdrop(photo, mode) {
    const sum = isA('ImageData', photo) ? checksum(photo.data) : null;
    const kept = sum === null ? undefined : this.#backdrops.get(photo);
    if (kept && kept.sum === sum && kept.modes.has(mode)) return kept.modes.get(mode);
    const analysis = WasmStyler.analyseBackdrop(photo.width, photo.height, photo.data, mode);
    if (sum !== null) {
      const modes = kept && kept.sum === sum ? kept.modes : new Map();
      modes.set(mode, analysis);
      this.#backdrops.set(photo, { sum, modes });
    }
    return analysis;
  }

  // Loads what a call needs of the arbitrary-style pair: 'vector' (the transformer) or 'predictor' (both).
  async #ensure(inner, needs) {
    if (needs === 'presets') return;
    const { transform, predictor } = this.#models;
    if (transform === undefined || (needs === 'predictor' && predictor === undefined)) {
      throw codedError('STYLE_KIND', `style vectors need the arbitrary-style models, which vitrine/presets leaves out; import Styler from 'vitrine' instead, or pass transformModel${needs === 'predictor' ? ' and predictorModel' : ''} to Styler.create`);
    }
    if (!inner.hasVectorModel) {
      const bytes = await modelBytes(transform, 'transform', this.#report);
      await this.#gpuCall(inner, () => inner.loadVectorModel(bytes));
    }
    if (needs === 'predictor' && !inner.hasPredictor) {
      const bytes = await modelBytes(predictor, 'predictor', this.#report);
      await this.#gpuCall(inner, () => inner.loadPredictor(bytes));
    }
  }

  async #styleFromImage(image) {
    const inner = await this.#current();
    try {
      const picture = styleSized(await pixelsOf(image));
      await this.#ensure(inner, 'predictor');
      return await this.#gpuCall(inner, () => inner.styleVector(picture.width, picture.height, picture.data));
    } catch (error) {
      throw coded(error);
    } finally {
      if (!this.#hung && this.#inner) this.#sync();
    }
  }

  /**
   * @param {import('./vitrine.js').ImageInput} image
   * @param {import('./vitrine.js').StylizeOptions} [options]
   */
  async #stylize(image, { style, strength, preserveColor = false, maxSize, background } = {}) {
    const inner = await this.#current();
    try {
      // The style, strength and background are checked before any model is fetched or any pixel read.
      const needs = WasmStyler.styleNeeds(style, strength);
      const mode = WasmStyler.checkBackground(background);
      const photo = await pixelsOf(image);
      await this.#ensure(inner, needs);
      const { width, height } = photo;
      const [w, h] = WasmStyler.workingSize(width, height, maxSize);
      if (w === width && h === height) {
        const styled = await this.#gpuCall(inner, () => inner.stylize(width, height, photo.data, style, strength, Boolean(preserveColor), mode));
        return reported(imageData(styled.rgba, width, height), styled.background);
      }
      // Styled at the working size, scaled back up opaque (so no colour bleeds in from transparent pixels), then
      // blended with the full-size photo and given its alpha. A preset's strength fades pixels, so the network
      // paints at full strength; a style vector's strength blends vectors, so it goes into the network. The
      // backdrop is decided on the full-size photo: where its analysis finds a product, the network paints it as
      // itself (the same mode at the working size) and the scaled result goes through the full-size matte, over
      // the photo's own backdrop, pure white, or none, before strength and colours; otherwise the whole photo is
      // painted.
      const backdrop = this.#backdrop(photo, mode);
      const small = resized(photo, w, h);
      const vector = needs !== 'presets';
      const smallMode = backdrop.matte ? mode : 'paint';
      const styled = await this.#gpuCall(inner, () => inner.stylize(w, h, small.data, style, vector ? strength : 1, false, smallMode));
      const painted = styled.rgba;
      for (let i = 3; i < painted.length; i += 4) painted[i] = 255;
      const large = resized(imageData(painted, w, h), width, height);
      const composited = backdrop.matte ? WasmStyler.composite(width, height, photo.data, large.data, mode, backdrop.matte) : large.data;
      const finishStrength = vector ? 1 : strength;
      const bytes = WasmStyler.finish(width, height, photo.data, composited, finishStrength, Boolean(preserveColor), mode, backdrop.matte ?? undefined);
      return reported(imageData(bytes, width, height), backdrop.background);
    } catch (error) {
      throw coded(error);
    } finally {
      if (!this.#hung && this.#inner) this.#sync();
    }
  }
}

export default Styler;
