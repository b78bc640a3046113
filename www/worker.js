// The styling worker: it owns the Styler and does every piece of pixel work, so the page never waits on it.
//
// Messages in (each with a numeric `id`, answered by one message with the same id):
//   { type: 'init', backend }                       -> { backend, styles, gpu }
//   { type: 'photo', key, bitmap }                  -> { width, height }        (decodes into an ImageData, kept here)
//   { type: 'forget', key }                         -> {}                       (drops a photo and its paintings)
//   { type: 'render', photo, style, strength, preserveColor }
//                                                   -> { image, ms, cached }    (an ImageData of the photo's size)
//       style: { kind: 'presets', mix } (mix: { index: weight }) or { kind: 'vector', id, file } (a style file)
//   { type: 'styleOf', bitmap }                     -> { style }                (a picture's style file)
//   { type: 'forgetStyle', id }                     -> {}                       (drops a style vector's paintings)
// Failures answer { id, error: { code, message } }. Progress while a model loads: { type: 'progress', ... }.
//
// For a preset mix, the network's full-strength output is cached per (photo, mix); strength and keep-true-colours
// are applied to it by the library's own finish step (`styler.finish`), so those controls never re-run the network.
// For a style vector, strength is Magenta's: the style's vector blended with the photo's own (computed once per
// photo and kept), so each strength is a painting of its own, cached per (photo, style, strength); keep-true-colours
// is still the finish step.

let styler = null;
const photos = new Map(); // key -> ImageData
const styled = new Map(); // `${photo}|${styleKey}` -> { image, ms }, least recently used first
const ownStyles = new Map(); // photo key -> the photo's own style file (for a style vector's strength)
const STYLED_CACHE_ENTRIES = 24;

self.onmessage = async (event) => {
  const { id, type } = event.data;
  try {
    let result;
    let transfer = [];
    if (type === 'init') result = await init(event.data);
    else if (type === 'photo') result = addPhoto(event.data);
    else if (type === 'forget') result = forget(event.data.key);
    else if (type === 'styleOf') result = await styleOf(event.data.bitmap);
    else if (type === 'forgetStyle') result = forgetStyle(event.data.id);
    else if (type === 'render') {
      result = await render(event.data);
      transfer = [result.image.data.buffer]; // a fresh copy: the cached output stays here
    } else throw coded('BAD_MESSAGE', `Unknown request '${type}'.`);
    self.postMessage({ id, ...result }, transfer);
  } catch (err) {
    self.postMessage({
      id,
      error: { code: err?.code ?? 'UNEXPECTED', message: err?.message ?? String(err) },
    });
  }
};

function coded(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

async function loadPackage() {
  // The package's own package.json names its entry module.
  const pkgUrl = new URL('./pkg/', self.location.href);
  let entry = 'vitrine.js';
  try {
    const res = await fetch(new URL('package.json', pkgUrl));
    if (res.ok) {
      const meta = await res.json();
      entry = meta.module ?? meta.browser ?? meta.main ?? entry;
    }
  } catch {
    // fall back to the default entry name
  }
  const entryUrl = new URL(entry, pkgUrl);
  try {
    return { mod: await import(entryUrl.href), entryUrl };
  } catch (err) {
    throw coded(
      'PACKAGE_MISSING',
      `The styling package could not be loaded from ${entryUrl.pathname} (${err.message}). Build it with 'make web'.`,
    );
  }
}

async function init({ backend }) {
  const { mod, entryUrl } = await loadPackage();
  const Styler = mod.Styler ?? mod.default?.Styler;
  if (typeof Styler?.create !== 'function') {
    throw coded('PACKAGE_MISSING', `The package at ${entryUrl.pathname} exports no Styler.create.`);
  }
  styler = await Styler.create({
    backend,
    onProgress: (p) => self.postMessage({ type: 'progress', progress: plain(p) }),
  });
  const list = typeof styler.styles === 'function' ? styler.styles() : styler.styles;
  const styles = Array.from(list ?? [], (s, i) => ({
    id: s.id ?? i,
    name: s.name,
    thumbnail: s.thumbnail ? new URL(String(s.thumbnail), entryUrl).href : null,
  }));
  return { backend: styler.backend, fallbackReason: styler.fallbackReason ?? null, styles, gpu: await gpuKind() };
}

/** What WebGPU this browser offers: 'none', 'software' (a fallback adapter) or 'hardware'. */
async function gpuKind() {
  try {
    const adapter = await self.navigator.gpu?.requestAdapter();
    if (!adapter) return 'none';
    const info = adapter.info ?? {};
    return adapter.isFallbackAdapter || info.isFallbackAdapter ? 'software' : 'hardware';
  } catch {
    return 'none';
  }
}

function plain(p) {
  if (p == null || typeof p !== 'object') return p;
  const out = {};
  for (const k of Object.keys(p)) if (['number', 'string', 'boolean'].includes(typeof p[k])) out[k] = p[k];
  return out;
}

function addPhoto({ key, bitmap }) {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  photos.set(key, ctx.getImageData(0, 0, canvas.width, canvas.height));
  for (const k of [...styled.keys()]) if (k.startsWith(`${key}|`)) styled.delete(k);
  return { width: canvas.width, height: canvas.height };
}

function forget(key) {
  photos.delete(key);
  ownStyles.delete(key);
  for (const k of [...styled.keys()]) if (k.startsWith(`${key}|`)) styled.delete(k);
  return {};
}

function forgetStyle(id) {
  for (const k of [...styled.keys()]) if (k.split('|')[1] === `v:${id}`) styled.delete(k);
  return {};
}

async function styleOf(bitmap) {
  if (!styler) throw coded('NOT_READY', 'The styler is still loading.');
  try {
    return { style: await styler.styleFromImage(bitmap) };
  } finally {
    bitmap.close();
  }
}

/** A style mix as the API takes it (an index or { index: weight }) and a key for the cache. */
function presetStyle(mix) {
  const entries = Object.entries(mix)
    .map(([k, w]) => [Number(k), Number(w)])
    .filter(([, w]) => w > 0)
    .sort((a, b) => a[0] - b[0]);
  if (entries.length === 0) throw coded('NO_STYLE', 'Choose a style first.');
  const key = entries.map(([k, w]) => `${k}:${w.toFixed(3)}`).join(',');
  if (entries.length === 1) return { style: entries[0][0], key };
  return { style: Object.fromEntries(entries), key };
}

async function render({ photo, style: wanted, strength, preserveColor }) {
  if (!styler) throw coded('NOT_READY', 'The styler is still loading.');
  const source = photos.get(photo);
  if (!source) throw coded('NO_PHOTO', 'That photo is no longer loaded; choose it again.');
  let style;
  let key;
  let finishStrength = strength;
  if (wanted.kind === 'vector') {
    // Strength in whole percent, as the slider moves.
    const share = Math.round(Math.min(1, Math.max(0, strength)) * 100) / 100;
    key = `v:${wanted.id}|${share.toFixed(2)}`;
    style = wanted.file;
    if (share < 1 && !styled.has(`${photo}|${key}`)) {
      let own = ownStyles.get(photo);
      if (!own) {
        own = await styler.styleFromImage(source);
        ownStyles.set(photo, own);
      }
      style = { vectors: [{ style: wanted.file, weight: share }, { style: own, weight: 1 - share }] };
    }
    finishStrength = 1;
  } else {
    ({ style, key } = presetStyle(wanted.mix));
  }
  const cacheKey = `${photo}|${key}`;
  let hit = styled.get(cacheKey);
  const cached = Boolean(hit);
  if (hit) {
    styled.delete(cacheKey);
  } else {
    // The page has already scaled the photo to its working size: style it as it is.
    const started = performance.now();
    const image = await styler.stylize(source, { style, strength: 1, preserveColor: false, maxSize: 0 });
    hit = { image, ms: performance.now() - started };
  }
  styled.set(cacheKey, hit);
  while (styled.size > STYLED_CACHE_ENTRIES) styled.delete(styled.keys().next().value);
  const image = styler.finish(source, hit.image, { strength: finishStrength, preserveColor });
  return { image, ms: hit.ms, cached };
}

