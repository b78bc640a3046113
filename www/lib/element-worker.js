// The module worker behind <vitrine-styler>: it owns the Styler and does every piece of pixel work, so the page
// never waits on it. A static file of the package (no blob: URL), so `worker-src 'self'` is all a CSP needs.
//
// Messages in (each with a numeric `id`, answered by one message with the same id):
//   { type: 'init', backend }                        -> { backend, fallbackReason, styles, gpu }
//   { type: 'photo', key, bitmap }                   -> { width, height }   (kept here as an ImageData)
//   { type: 'render', photo, style, strength, preserveColor, maxSize, background }
//                                                    -> { image, ms, cached, background } (an ImageData of the
//       photo's size, and what was done with its backdrop: `{ mode, applied, product, reason }`)
//       style: { kind: 'presets', mix } (mix: { index: weight }) or { kind: 'vector', id, file } (a style file)
//   { type: 'styleOf', bitmap }                      -> { style }           (a picture's style file)
//   { type: 'forgetStyle', id }                      -> {}
//   { type: 'loseDevice' }                           -> { lost }            (testing aid)
//   { type: 'crash' }                                -> never answered      (testing aid: the worker dies)
//   { type: 'liveStart', canvas, style, strength, preserveColor }
//                                                    -> {}                  (an OffscreenCanvas, transferred)
//   { type: 'liveFrame', frame }                     -> { drawn, stats }    (a VideoFrame, transferred; the page
//       sends the next only after this answer, so frames are dropped on the page's side, never queued here)
//   { type: 'liveUpdate', style, strength, preserveColor } -> {}
//   { type: 'liveSnapshot' }                         -> { blob }            (a PNG of the next frame drawn)
//   { type: 'liveStop' }                             -> { stats }
// Failures answer { id, error: { code, message } }; progress while a model loads: { type: 'progress', progress }.
//
// A preset mix's full-strength output is cached per (photo, mix, working size, background); strength and
// keep-true-colours are the library's own finish step (`styler.finish`) on it, so those controls never run the
// network again (the backdrop goes through the photo's matte again there, so it stays kept, white or transparent). A style
// vector's strength is Magenta's (the style's vector blended with the photo's own), cached per strength.
import { Styler } from './vitrine.js';

let styler = null;
let liveSession = null; // the live session, from its first frame on
let liveSetup = null; // { canvas, options } until the first frame arrives
const photos = new Map(); // key -> ImageData
const styled = new Map(); // `${photo}|${key}` -> { image, ms }, least recently used first
const ownStyles = new Map(); // photo key -> the photo's own style file
const CACHE_ENTRIES = 12;

function coded(code, message) {
  return Object.assign(new Error(message), { code });
}

const handlers = {
  async init({ backend }) {
    styler = await Styler.create({
      backend,
      onProgress: (progress) => self.postMessage({ type: 'progress', progress: { ...progress } }),
    });
    return {
      backend: styler.backend,
      fallbackReason: styler.fallbackReason,
      styles: styler.styles.map(({ id, name, thumbnail }) => ({ id, name, thumbnail })),
    };
  },
  photo({ key, bitmap }) {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    photos.clear(); // one photo per element
    ownStyles.clear();
    styled.clear();
    photos.set(key, ctx.getImageData(0, 0, canvas.width, canvas.height));
    return { width: canvas.width, height: canvas.height };
  },
  async styleOf({ bitmap }) {
    try {
      return { style: await live().styleFromImage(bitmap) };
    } finally {
      bitmap.close();
    }
  },
  forgetStyle({ id }) {
    for (const key of [...styled.keys()]) if (key.split('|')[1] === `v:${id}`) styled.delete(key);
    return {};
  },
  loseDevice() {
    return { lost: live().simulateDeviceLoss() };
  },
  crash() {
    setTimeout(() => {
      throw new Error('simulated crash');
    });
    return new Promise(() => {});
  },
  render,
  liveStart({ canvas, style, strength, preserveColor }) {
    live();
    liveSetup = { canvas, options: liveOptions({ style, strength, preserveColor }) };
    return {};
  },
  async liveFrame({ frame }) {
    if (liveSession) return { drawn: await liveSession.push(frame), stats: liveSession.stats };
    if (!liveSetup) {
      frame.close();
      return { drawn: false, stats: null };
    }
    const { canvas, options } = liveSetup;
    liveSetup = null;
    try {
      liveSession = await live().live(frame, canvas, {
        ...options,
        onError: (error) => self.postMessage({ type: 'liveError', error: { code: error?.code ?? 'INTERNAL', message: error?.message ?? String(error) } }),
      });
    } catch (error) {
      frame.close();
      throw error;
    }
    return { drawn: await liveSession.firstFrame, stats: liveSession.stats };
  },
  liveUpdate(wanted) {
    const options = liveOptions(wanted);
    if (liveSession) liveSession.update(options);
    else if (liveSetup) liveSetup.options = options;
    return {};
  },
  async liveSnapshot() {
    if (!liveSession) throw coded('NOT_STYLED', 'Nothing is playing live yet.');
    return { blob: await liveSession.snapshot() };
  },
  async liveStop() {
    const session = liveSession;
    liveSession = null;
    liveSetup = null;
    if (!session) return { stats: null };
    await session.stop();
    return { stats: session.stats };
  },
};

// A live session's style: a preset mix as `render` takes it, or a style file; strength fades the pixels for both
// (a frame has no time to blend style vectors).
function liveOptions({ style: wanted, strength, preserveColor }) {
  const style = wanted.kind === 'vector' ? wanted.file : presetStyle(wanted.mix).style;
  return { style, strength, preserveColor };
}

function live() {
  if (!styler) throw coded('NOT_READY', 'The styler is still loading.');
  return styler;
}

function presetStyle(mix) {
  const entries = Object.entries(mix)
    .map(([k, w]) => [Number(k), Number(w)])
    .filter(([, w]) => w > 0)
    .sort((a, b) => a[0] - b[0]);
  if (entries.length === 0) throw coded('STYLE_WEIGHTS', 'Choose a style first.');
  const key = entries.map(([k, w]) => `${k}:${w.toFixed(3)}`).join(',');
  return { style: entries.length === 1 ? entries[0][0] : Object.fromEntries(entries), key };
}

async function render({ photo, style: wanted, strength, preserveColor, maxSize, background }) {
  const engine = live();
  const source = photos.get(photo);
  if (!source) throw coded('NO_PHOTO', 'That photo is no longer loaded.');
  let style;
  let key;
  let finishStrength = strength;
  if (wanted.kind === 'vector') {
    const share = Math.round(Math.min(1, Math.max(0, strength)) * 100) / 100;
    key = `v:${wanted.id}|${share.toFixed(2)}`;
    style = wanted.file;
    if (share < 1 && !styled.has(`${photo}|${key}|${maxSize}|${background}`)) {
      let own = ownStyles.get(photo);
      if (!own) {
        own = await engine.styleFromImage(source);
        ownStyles.set(photo, own);
      }
      style = { vectors: [{ style: wanted.file, weight: share }, { style: own, weight: 1 - share }] };
    }
    finishStrength = 1;
  } else {
    ({ style, key } = presetStyle(wanted.mix));
  }
  const cacheKey = `${photo}|${key}|${maxSize}|${background}`;
  let hit = styled.get(cacheKey);
  const cached = Boolean(hit);
  if (hit) styled.delete(cacheKey);
  else {
    const started = performance.now();
    const image = await engine.stylize(source, { style, strength: 1, preserveColor: false, maxSize, background });
    hit = { image, ms: performance.now() - started };
  }
  styled.set(cacheKey, hit);
  while (styled.size > CACHE_ENTRIES) styled.delete(styled.keys().next().value);
  const image = engine.finish(source, hit.image, { strength: finishStrength, preserveColor, background });
  // The report is a property of the ImageData, which postMessage does not carry: it goes beside it.
  return { image, ms: hit.ms, cached, backend: engine.backend, background: { ...image.background } };
}

self.onmessage = async ({ data }) => {
  const { id, type } = data;
  try {
    const handler = Object.hasOwn(handlers, type) ? handlers[type] : null;
    if (!handler) throw coded('BAD_MESSAGE', `Unknown request '${type}'.`);
    const result = await handler(data);
    /** @type {{ postMessage(message: unknown, transfer: Transferable[]): void }} */ (/** @type {unknown} */ (self)).postMessage({ id, ...result }, result.image ? [result.image.data.buffer] : []);
  } catch (error) {
    // Only vitrine's named codes cross to the element (a DOMException's is a number).
    const code = typeof error?.code === 'string' ? error.code : 'INTERNAL';
    self.postMessage({ id, error: { code, message: error?.message ?? String(error) } });
  }
};
