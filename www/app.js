// The product page: photos, the style gallery and the controls. All styling runs in worker.js.
//
// URL parameters (all optional): backend=auto|webgpu|cpu (what Styler.create gets), max=N (the longest side,
// in pixels, a photo is scaled down to before styling; default 1024).
//
// Besides the 26 presets, the gallery holds style vectors: the shop's own (the page's configuration, a
// `<script type="application/json" id="vitrine-config">` or `window.vitrineConfig`, { styles: [{ name, vector,
// thumbnail }] }, `vector` a style file object or its URL) and the shopper's, made from a picture they choose, drop or
// paste, and kept in IndexedDB (the style file and a 96 px thumbnail) until they remove them.

const params = new URLSearchParams(location.search);
const BACKEND = ['auto', 'webgpu', 'cpu'].includes(params.get('backend')) ? params.get('backend') : 'auto';
const MAX_SIDE = clampInt(params.get('max'), 16, 2048, 1024);

const SAMPLES = {
  coffee: { url: 'samples/coffee.jpg', name: 'espresso-cup' },
  rocket: { url: 'samples/rocket.jpg', name: 'launch' },
  logo: { url: 'samples/logo.png', name: 'logo' },
};

const $ = (id) => document.getElementById(id);
const ui = {
  stage: $('stage'),
  frame: $('frame'),
  before: $('before'),
  after: $('after'),
  compare: $('compare'),
  busy: $('busy'),
  busyText: $('busy-text'),
  engine: $('engine'),
  photoList: $('photo-list'),
  file: $('file'),
  styles: $('styles'),
  grid: $('style-grid'),
  addStyle: $('add-style'),
  styleFile: $('style-file'),
  originalThumb: $('original-thumb'),
  second: $('second'),
  mix: $('mix'),
  mixOut: $('mix-out'),
  mixA: $('mix-a'),
  mixB: $('mix-b'),
  strength: $('strength'),
  strengthOut: $('strength-out'),
  keep: $('keep'),
  download: $('download'),
  error: $('error'),
  add: $('add'),
  bagCount: $('bag-count'),
  bagNote: $('bag-note'),
};

const state = {
  photo: 'coffee', // key of the photo shown
  style: null, // index of the chosen preset, the id (a string) of a style vector, or null for the original photo
  second: null,
  mix: 0.5, // share of the second style
  strength: 1,
  keep: false,
};

let styles = []; // the presets: [{ id, name, thumbnail }]
const vectorStyles = new Map(); // id -> { id, name, file, thumbnail, source: 'shop' | 'mine' }
let engine = null; // { backend, gpu }
const photoInfo = new Map(); // key -> { name, width, height, ready: Promise }
let ownCount = 0;

// ---------------------------------------------------------------------------------------------------------
// The worker, one request at a time per id.

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let nextId = 1;
const waiting = new Map();

worker.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === 'progress') {
    showProgress(msg.progress);
    return;
  }
  const pending = waiting.get(msg.id);
  if (!pending) return;
  waiting.delete(msg.id);
  if (msg.error) {
    const err = new Error(msg.error.message);
    err.code = msg.error.code;
    pending.reject(err);
  } else pending.resolve(msg);
};
worker.onerror = (event) => {
  event.preventDefault();
  showError({ code: 'WORKER_FAILED', message: `The painter stopped: ${event.message || 'unknown error'}. Reload the page to try again.` });
};

function call(type, payload = {}, transfer = []) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.postMessage({ id, type, ...payload }, transfer);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Start: the styler in the worker, the first photo on the stage.

const ready = call('init', { backend: BACKEND })
  .then((info) => {
    engine = info;
    styles = info.styles;
    buildGallery();
    describeEngine();
    setControlsEnabled(true);
    document.documentElement.dataset.backend = info.backend;
    return info;
  })
  .catch((err) => {
    ui.styles.setAttribute('aria-busy', 'false');
    ui.engine.textContent = 'The painter could not start.';
    showError(err, 'The painted looks are not available');
    throw err;
  });
ready.catch(() => {});

buildSkeleton();
selectPhoto('coffee');

// ---------------------------------------------------------------------------------------------------------
// Photos

async function loadBitmap(blob) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw Object.assign(new Error('That file is not an image this browser can read. Try a JPEG, PNG or WebP photo.'), {
      code: 'BAD_IMAGE',
    });
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  if (scale >= 1) return bitmap;
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const scaled = await createImageBitmap(bitmap, {
    resizeWidth: width,
    resizeHeight: height,
    resizeQuality: 'high',
    premultiplyAlpha: 'none',
  });
  bitmap.close();
  return scaled;
}

/** Register a photo: draw it for the stage and hand a copy to the worker. */
function addPhoto(key, name, blobPromise) {
  const info = { name };
  info.ready = (async () => {
    const blob = await blobPromise;
    const bitmap = await loadBitmap(blob);
    info.width = bitmap.width;
    info.height = bitmap.height;
    info.thumb = URL.createObjectURL(blob);
    const forWorker = await createImageBitmap(bitmap, { premultiplyAlpha: 'none' });
    info.bitmap = bitmap;
    await call('photo', { key, bitmap: forWorker }, [forWorker]);
    return info;
  })();
  photoInfo.set(key, info);
  return info;
}

async function selectPhoto(key) {
  let info = photoInfo.get(key);
  if (!info) {
    const sample = SAMPLES[key];
    info = addPhoto(key, sample.name, fetch(sample.url).then((r) => {
      if (!r.ok) throw Object.assign(new Error(`The sample photo ${sample.url} is missing (HTTP ${r.status}).`), { code: 'NO_PHOTO' });
      return r.blob();
    }));
  }
  state.photo = key;
  const radio = ui.photoList.querySelector(`input[value="${key}"]`);
  if (radio) radio.checked = true;
  try {
    await info.ready;
  } catch (err) {
    showError(err);
    return;
  }
  if (state.photo !== key) return;
  showPhoto(info);
  render();
}

function showPhoto(info) {
  for (const canvas of [ui.before, ui.after]) {
    canvas.width = info.width;
    canvas.height = info.height;
  }
  ui.before.getContext('2d').drawImage(info.bitmap, 0, 0);
  ui.after.getContext('2d').clearRect(0, 0, info.width, info.height);
  ui.frame.style.setProperty('--ratio', `${info.width / info.height}`);
  ui.originalThumb.src = info.thumb;
  ui.stage.dataset.state = 'photo';
  ui.stage.dataset.photo = state.photo;
}

ui.photoList.addEventListener('change', (event) => {
  if (event.target.name === 'photo') selectPhoto(event.target.value);
});

function useOwnPhoto(blob, label = 'your-photo') {
  if (!blob || !(blob.type || '').startsWith('image/')) {
    showError({ code: 'BAD_IMAGE', message: 'That is not an image. Choose a JPEG, PNG or WebP photo.' });
    return;
  }
  hideError();
  ownCount += 1;
  const key = `own-${ownCount}`;
  const name = label.replace(/\.[^.]+$/, '').replace(/[^\w-]+/g, '-').slice(0, 40) || 'your-photo';
  addPhoto(key, name, Promise.resolve(blob));
  // One tile for the shopper's photo, replaced by the next one.
  const old = ui.photoList.querySelector('.photo-tile.own-photo');
  if (old) {
    const oldKey = old.querySelector('input').value;
    URL.revokeObjectURL(old.querySelector('img').src);
    old.remove();
    const info = photoInfo.get(oldKey);
    photoInfo.delete(oldKey);
    info?.ready.then((i) => {
      i.bitmap?.close();
      URL.revokeObjectURL(i.thumb);
      return call('forget', { key: oldKey });
    }).catch(() => {});
  }
  const tile = document.createElement('label');
  tile.className = 'photo-tile own-photo';
  tile.innerHTML = `<input type="radio" name="photo" value="${key}"><img alt="" width="72" height="48"><span>Your photo</span>`;
  tile.querySelector('img').src = URL.createObjectURL(blob);
  ui.photoList.append(tile);
  selectPhoto(key);
}

ui.file.addEventListener('change', () => {
  const file = ui.file.files?.[0];
  if (file) useOwnPhoto(file, file.name);
  ui.file.value = '';
});

let dragDepth = 0;
const hasFiles = (event) => Array.from(event.dataTransfer?.types ?? []).includes('Files');
document.addEventListener('dragenter', (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  dragDepth += 1;
  document.body.classList.add('dragging');
});
document.addEventListener('dragover', (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = 'copy';
});
document.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) document.body.classList.remove('dragging');
});
document.addEventListener('drop', (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  dragDepth = 0;
  document.body.classList.remove('dragging');
  const file = Array.from(event.dataTransfer.files).find((f) => f.type.startsWith('image/')) ?? event.dataTransfer.files[0];
  // Onto the styles: a picture to paint in the style of. Anywhere else: a photo to paint.
  if (event.target instanceof Node && ui.styles.contains(event.target)) addOwnStyle(file, file?.name);
  else useOwnPhoto(file, file?.name);
});
document.addEventListener('paste', (event) => {
  const item = Array.from(event.clipboardData?.items ?? []).find((i) => i.kind === 'file' && i.type.startsWith('image/'));
  if (!item) return;
  event.preventDefault();
  // With a style focused, a pasted picture becomes a style; otherwise it is a photo.
  if (ui.styles.contains(document.activeElement)) addOwnStyle(item.getAsFile(), 'Pasted picture');
  else useOwnPhoto(item.getAsFile(), 'pasted-photo');
});

// ---------------------------------------------------------------------------------------------------------
// The style gallery and the controls

function buildSkeleton() {
  for (let i = 0; i < 11; i++) {
    const tile = document.createElement('div');
    tile.className = 'style-tile skeleton';
    tile.setAttribute('aria-hidden', 'true');
    tile.innerHTML = '<span class="thumb"></span><span class="name">&nbsp;</span>';
    ui.grid.append(tile);
  }
}

function buildGallery() {
  ui.grid.querySelectorAll('.skeleton').forEach((el) => el.remove());
  const tiles = styles.map((style, index) => {
    const tile = document.createElement('label');
    tile.className = 'style-tile';
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'style';
    input.value = String(index);
    input.disabled = false;
    const thumb = document.createElement('span');
    thumb.className = 'thumb';
    if (style.thumbnail) {
      const img = document.createElement('img');
      img.src = style.thumbnail;
      img.alt = '';
      img.width = 96;
      img.height = 96;
      img.loading = 'lazy';
      img.decoding = 'async';
      thumb.append(img);
    }
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = style.name;
    tile.append(input, thumb, name);
    return tile;
  });
  ui.grid.append(...tiles);
  ui.styles.setAttribute('aria-busy', 'false');

  ui.second.append(
    ...styles.map((style, index) => new Option(style.name, String(index))),
  );
}

/** A gallery radio's value as `state.style`: 'none', a preset index, or 'v:' and a style vector's id. */
function styleOfValue(value) {
  if (value === 'none') return null;
  if (value.startsWith('v:')) return value.slice(2);
  return Number(value);
}

const isVector = (style) => typeof style === 'string';

ui.grid.addEventListener('change', (event) => {
  if (event.target.name !== 'style') return;
  state.style = styleOfValue(event.target.value);
  syncControls();
  render();
});
ui.second.addEventListener('change', () => {
  state.second = ui.second.value === 'none' ? null : Number(ui.second.value);
  syncControls();
  render();
});
ui.mix.addEventListener('input', () => {
  state.mix = Number(ui.mix.value) / 100;
  syncControls();
});
// The mix re-runs the network: on release (and on each arrow key), not on every pixel of a drag.
ui.mix.addEventListener('change', () => {
  state.mix = Number(ui.mix.value) / 100;
  render();
});
// For a preset, strength and colours reuse the cached painting: live. For a style vector, strength blends the
// style's vector with the photo's own and paints again, so a drag waits until it pauses (or ends).
let strengthTimer = 0;
ui.strength.addEventListener('input', () => {
  state.strength = Number(ui.strength.value) / 100;
  syncControls();
  clearTimeout(strengthTimer);
  if (isVector(state.style)) strengthTimer = setTimeout(render, 250);
  else render();
});
ui.strength.addEventListener('change', () => {
  if (!isVector(state.style)) return;
  clearTimeout(strengthTimer);
  render();
});
ui.keep.addEventListener('change', () => {
  state.keep = ui.keep.checked;
  render();
});
ui.compare.addEventListener('input', () => {
  ui.frame.style.setProperty('--pos', `${ui.compare.value}%`);
});

function setControlsEnabled(on) {
  // A style still being read stays off until it is ready.
  ui.grid.querySelectorAll('input, button').forEach((i) => (i.disabled = !on || Boolean(i.closest('[aria-busy="true"]'))));
  syncControls(on);
}

function syncControls(on = Boolean(engine)) {
  const styled = on && state.style !== null;
  const preset = styled && !isVector(state.style);
  // A second style mixes presets; a style vector paints on its own.
  ui.second.disabled = !preset;
  ui.second.title = styled && !preset ? 'Mixing works with the 26 painted styles' : '';
  ui.strength.disabled = !styled;
  ui.keep.disabled = !styled;
  const mixing = preset && state.second !== null && state.second !== state.style;
  ui.mix.disabled = !mixing;
  if (mixing) {
    const b = Math.round(state.mix * 100);
    ui.mixOut.textContent = `${100 - b} : ${b}`;
    ui.mixA.textContent = styles[state.style].name;
    ui.mixB.textContent = styles[state.second].name;
    ui.mix.setAttribute('aria-valuetext', `${100 - b}% ${styles[state.style].name}, ${b}% ${styles[state.second].name}`);
  } else {
    ui.mixOut.textContent = '—';
    ui.mixA.textContent = '';
    ui.mixB.textContent = '';
    ui.mix.removeAttribute('aria-valuetext');
  }
  ui.strengthOut.textContent = `${Math.round(state.strength * 100)}%`;
  ui.download.disabled = !styled || ui.stage.dataset.state !== 'styled';
}

function describeStyle(style) {
  if (style.kind === 'vector') return `the style of “${vectorStyles.get(style.id)?.name ?? 'your picture'}”`;
  const parts = Object.entries(style.mix);
  if (parts.length === 1) return styles[parts[0][0]].name;
  return parts.map(([i, w]) => `${Math.round(w * 100)}% ${styles[i].name}`).join(' and ');
}

/** What the worker paints: { kind: 'presets', mix } or { kind: 'vector', id, file }; null for the photo itself. */
function currentStyle() {
  if (state.style === null) return null;
  if (isVector(state.style)) {
    const entry = vectorStyles.get(state.style);
    return entry ? { kind: 'vector', id: entry.id, file: entry.file } : null;
  }
  return { kind: 'presets', mix: currentMix() };
}

function currentMix() {
  if (state.second === null || state.second === state.style || state.mix <= 0) return { [state.style]: 1 };
  if (state.mix >= 1) return { [state.second]: 1 };
  return { [state.style]: 1 - state.mix, [state.second]: state.mix };
}

// ---------------------------------------------------------------------------------------------------------
// Style vectors: the shop's styles (the page's configuration) and the shopper's own (a picture they give, kept in
// IndexedDB). Each is a gallery tile next to the presets; the shopper's can be removed.

const THUMB_SIDE = 96;

/** The shop's styles: the JSON in #vitrine-config and `window.vitrineConfig`, each vector inline or by URL. */
async function loadShopStyles() {
  const entries = [];
  const script = document.getElementById('vitrine-config');
  if (script?.textContent.trim()) {
    try {
      entries.push(...(JSON.parse(script.textContent).styles ?? []));
    } catch (err) {
      console.warn(`vitrine-config is not JSON (${err.message}); the shop's styles are left out.`);
    }
  }
  if (Array.isArray(window.vitrineConfig?.styles)) entries.push(...window.vitrineConfig.styles);
  const loaded = await Promise.all(entries.map(async (entry, index) => {
    try {
      let file = entry.vector;
      if (typeof file === 'string') {
        const response = await fetch(new URL(file, document.baseURI));
        if (!response.ok) throw new Error(`${file} gave HTTP ${response.status}`);
        file = await response.json();
      }
      if (file?.format !== 'vitrine-style' || !Array.isArray(file.vector) && !ArrayBuffer.isView(file.vector)) {
        throw new Error('its vector is not a style file ({ format: "vitrine-style", version, model, vector })');
      }
      const name = String(entry.name ?? `House style ${index + 1}`).slice(0, 40);
      const thumbnail = entry.thumbnail ? new URL(entry.thumbnail, document.baseURI).href : null;
      return { id: `shop-${index}`, name, file, thumbnail, source: 'shop' };
    } catch (err) {
      console.warn(`vitrine-config: style ${index + 1} (${entry?.name ?? 'unnamed'}) is left out: ${err.message}`);
      return null;
    }
  }));
  for (const style of loaded) if (style) addVectorTile(style);
}

// The shopper's styles in IndexedDB: { id, name, file, thumbnail (a JPEG data URL), created }.
const savedStyles = {
  db: null,
  open() {
    this.db ??= new Promise((resolve, reject) => {
      if (!('indexedDB' in self)) {
        reject(new Error('no IndexedDB'));
        return;
      }
      const request = indexedDB.open('vitrine-demo', 1);
      request.onupgradeneeded = () => request.result.createObjectStore('styles', { keyPath: 'id' });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error('the style store is blocked by another tab'));
    });
    return this.db;
  },
  async run(mode, act) {
    const db = await this.open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction('styles', mode);
      const request = act(tx.objectStore('styles'));
      tx.oncomplete = () => resolve(request?.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error('aborted'));
    });
  },
  all() {
    return this.run('readonly', (store) => store.getAll());
  },
  put(style) {
    return this.run('readwrite', (store) => store.put(style));
  },
  remove(id) {
    return this.run('readwrite', (store) => store.delete(id));
  },
};

async function loadSavedStyles() {
  let saved = [];
  try {
    saved = await savedStyles.all();
  } catch (err) {
    console.warn(`Your saved styles could not be read (${err.message}); new ones last until the page closes.`);
    return;
  }
  saved.sort((a, b) => (a.created ?? 0) - (b.created ?? 0));
  for (const { id, name, file, thumbnail } of saved) addVectorTile({ id, name, file, thumbnail, source: 'mine' });
}

/** A gallery tile for a style vector, after the shop's and the shopper's other styles, before the presets. */
function addVectorTile(style, { pending = false } = {}) {
  vectorStyles.set(style.id, style);
  const cell = document.createElement('div');
  cell.className = `style-cell vector-cell ${style.source}`;
  cell.dataset.id = style.id;
  const tile = document.createElement('label');
  tile.className = 'style-tile';
  const input = document.createElement('input');
  input.type = 'radio';
  input.name = 'style';
  input.value = `v:${style.id}`;
  input.disabled = !engine || pending;
  const thumb = document.createElement('span');
  thumb.className = 'thumb';
  if (style.thumbnail) {
    const img = document.createElement('img');
    img.src = style.thumbnail;
    img.alt = '';
    img.width = THUMB_SIDE;
    img.height = THUMB_SIDE;
    img.decoding = 'async';
    thumb.append(img);
  }
  if (style.source === 'shop') {
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = 'House';
    thumb.append(badge);
  }
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = pending ? 'Reading its style…' : style.name;
  tile.append(input, thumb, name);
  cell.append(tile);
  if (style.source === 'mine') {
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'remove-style';
    remove.textContent = '×';
    remove.setAttribute('aria-label', `Remove your style “${style.name}”`);
    remove.title = 'Remove this style';
    remove.disabled = pending;
    remove.addEventListener('click', () => removeStyle(style.id));
    cell.append(remove);
  }
  if (pending) cell.setAttribute('aria-busy', 'true');
  const cells = ui.grid.querySelectorAll('.vector-cell');
  // The shop's styles first, then the shopper's in the order they were made.
  const shopCells = ui.grid.querySelectorAll('.vector-cell.shop');
  const after = style.source === 'shop' ? shopCells[shopCells.length - 1] ?? ui.addStyle : cells[cells.length - 1] ?? ui.addStyle;
  after.after(cell);
  return cell;
}

function finishTile(cell, style) {
  cell.removeAttribute('aria-busy');
  cell.querySelector('.name').textContent = style.name;
  cell.querySelectorAll('input, button').forEach((el) => (el.disabled = !engine));
}

function selectStyle(value) {
  const input = ui.grid.querySelector(`input[name="style"][value="${CSS.escape(value)}"]`);
  if (!input) return;
  input.checked = true;
  state.style = styleOfValue(value);
  syncControls();
  render();
}

let ownStyleCount = 0;

/** A picture from the shopper: its style vector, a thumbnail, a tile, saved; then the photo painted in it. */
async function addOwnStyle(blob, label = 'Your style') {
  if (!blob || !(blob.type || '').startsWith('image/')) {
    showError({ code: 'BAD_IMAGE', message: 'That is not an image. Choose a JPEG, PNG or WebP picture for your style.' });
    return;
  }
  hideError();
  let bitmap;
  try {
    bitmap = await loadBitmap(blob);
  } catch (err) {
    showError(err);
    return;
  }
  ownStyleCount += 1;
  const base = String(label).replace(/\.[^.]+$/, '').replace(/[_-]+/g, ' ').replace(/\s+/g, ' ').trim();
  const name = (base.charAt(0).toUpperCase() + base.slice(1)).slice(0, 28) || 'Your style';
  const style = {
    id: `mine-${Date.now().toString(36)}-${ownStyleCount}`,
    name,
    file: null,
    thumbnail: squareThumbnail(bitmap),
    source: 'mine',
    created: Date.now(),
  };
  const cell = addVectorTile(style, { pending: true });
  cell.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  clearTimeout(busyTimer);
  ui.busyText.textContent = 'Reading the style of your picture…';
  ui.busy.hidden = false;
  try {
    await ready;
    const { style: file } = await call('styleOf', { bitmap }, [bitmap]);
    style.file = file;
  } catch (err) {
    vectorStyles.delete(style.id);
    cell.remove();
    ui.busy.hidden = true;
    showError(err, 'That picture could not be read as a style');
    return;
  }
  finishTile(cell, style);
  try {
    await savedStyles.put({ id: style.id, name: style.name, file: style.file, thumbnail: style.thumbnail, created: style.created });
  } catch (err) {
    console.warn(`Your style could not be saved in this browser (${err.message}); it lasts until the page closes.`);
  }
  selectStyle(`v:${style.id}`);
  if (!inFlight) ui.busy.hidden = true;
}

/** A centred square of the picture, THUMB_SIDE px, as a JPEG data URL (a few KB in IndexedDB). */
function squareThumbnail(bitmap) {
  const side = Math.min(bitmap.width, bitmap.height);
  const canvas = document.createElement('canvas');
  canvas.width = THUMB_SIDE;
  canvas.height = THUMB_SIDE;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, THUMB_SIDE, THUMB_SIDE);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, THUMB_SIDE, THUMB_SIDE);
  return canvas.toDataURL('image/jpeg', 0.82);
}

async function removeStyle(id) {
  const cell = ui.grid.querySelector(`.vector-cell[data-id="${CSS.escape(id)}"]`);
  if (!cell) return;
  const wasChosen = state.style === id;
  const hadFocus = cell.contains(document.activeElement);
  // Focus moves to the next tile (or the add tile), so keyboard users stay in the gallery.
  const next = cell.nextElementSibling?.querySelector('input[name="style"]') ?? ui.styleFile;
  cell.remove();
  vectorStyles.delete(id);
  call('forgetStyle', { id }).catch(() => {});
  if (wasChosen) selectStyle('none');
  if (hadFocus) next.focus();
  try {
    await savedStyles.remove(id);
  } catch (err) {
    console.warn(`Your style could not be removed from this browser's storage (${err.message}).`);
  }
}

ui.styleFile.addEventListener('change', () => {
  const file = ui.styleFile.files?.[0];
  if (file) addOwnStyle(file, file.name);
  ui.styleFile.value = '';
});
// Delete or Backspace on one of the shopper's styles removes it.
ui.grid.addEventListener('keydown', (event) => {
  if (event.key !== 'Delete' && event.key !== 'Backspace') return;
  const cell = event.target.closest?.('.vector-cell.mine');
  if (!cell || event.target.name !== 'style') return;
  event.preventDefault();
  removeStyle(cell.dataset.id);
});

loadShopStyles();
loadSavedStyles();

// ---------------------------------------------------------------------------------------------------------
// Rendering: one request in flight; while it runs, only the latest wish is kept.

let inFlight = false;
let again = false;
let busyTimer = 0;

async function render() {
  if (inFlight) {
    again = true;
    return;
  }
  const style = currentStyle();
  if (style === null) {
    ui.stage.dataset.state = 'photo';
    syncControls();
    return;
  }
  const info = photoInfo.get(state.photo);
  if (!engine || !info?.width) {
    if (engine) info?.ready.then(() => render(), () => {});
    else ready.then(() => render(), () => {});
    return;
  }
  inFlight = true;
  again = false;
  ui.stage.dataset.idle = 'false';
  const request = { photo: state.photo, style, strength: state.strength, preserveColor: state.keep };
  clearTimeout(busyTimer);
  busyTimer = setTimeout(() => {
    ui.busyText.textContent = engine.backend === 'cpu' ? 'Painting on this device…' : 'Painting…';
    ui.busy.hidden = false;
  }, 120);
  try {
    const result = await call('render', request);
    if (result.image && request.photo === state.photo) {
      const { image } = result;
      if (ui.after.width !== image.width || ui.after.height !== image.height) {
        ui.after.width = image.width;
        ui.after.height = image.height;
      }
      ui.after.getContext('2d').putImageData(image, 0, 0);
      ui.stage.dataset.state = 'styled';
      ui.stage.dataset.style = style.kind === 'vector' ? `v:${style.id}` : JSON.stringify(style.mix);
      ui.after.setAttribute('aria-label', `The photo painted in ${describeStyle(style)}`);
      hideError();
      if (!result.cached) describeEngine(result.ms, info);
    }
  } catch (err) {
    showError(err, 'This photo could not be painted');
  } finally {
    clearTimeout(busyTimer);
    ui.busy.hidden = true;
    inFlight = false;
    syncControls();
    ui.stage.dataset.idle = String(!again);
    if (again) render();
  }
}

function describeEngine(ms, info) {
  if (!engine) return;
  const where =
    engine.backend === 'webgpu'
      ? 'Painted with <strong>WebGPU</strong> on this device'
      : engine.gpu === 'none'
        ? 'This browser has no WebGPU: painting on <strong>this device’s processor</strong>'
        : 'No hardware WebGPU here: painting on <strong>this device’s processor</strong>';
  let text = `${where}; your photo never leaves this device.`;
  if (ms !== undefined) {
    const time = ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
    text += ` <span class="nowrap">${time} per image (${info.width}×${info.height}).</span>`;
  }
  ui.engine.innerHTML = text;
  ui.engine.dataset.backend = engine.backend;
  if (engine.fallbackReason) ui.engine.title = engine.fallbackReason;
}

function showProgress(progress) {
  if (!progress) return;
  if (engine) {
    // The style models download on first use.
    if (progress.stage === 'model' && progress.model !== 'presets' && !ui.busy.hidden) {
      const percent = progress.total ? ` ${Math.round((progress.loaded / progress.total) * 100)}%` : '';
      ui.busyText.textContent = `${progress.model === 'predictor' ? 'Getting the style reader' : 'Getting the style painter'}…${percent}`;
    }
    return;
  }
  const fraction =
    typeof progress.fraction === 'number'
      ? progress.fraction
      : progress.total
        ? progress.loaded / progress.total
        : null;
  ui.engine.textContent =
    fraction === null ? 'Loading the painter…' : `Loading the painter… ${Math.round(fraction * 100)}%`;
}

// ---------------------------------------------------------------------------------------------------------
// Download, bag, errors

ui.download.addEventListener('click', () => {
  if (ui.stage.dataset.state !== 'styled') return;
  const info = photoInfo.get(state.photo);
  const style = currentStyle();
  const names = style.kind === 'vector' ? [vectorStyles.get(style.id)?.name ?? 'own-style'] : Object.keys(style.mix).map((i) => styles[i].name);
  const slug = names.map((name) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')).join('+');
  ui.after.toBlob((blob) => {
    if (!blob) {
      showError({ code: 'DOWNLOAD_FAILED', message: 'The image could not be saved. Try again.' });
      return;
    }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${info?.name ?? 'photo'}-${slug}.png`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }, 'image/png');
});

let bag = 0;
ui.add.addEventListener('click', () => {
  bag += 1;
  ui.bagCount.textContent = String(bag);
  ui.bagCount.parentElement.setAttribute('aria-label', `Bag, ${bag} item${bag === 1 ? '' : 's'}`);
  ui.bagNote.textContent = 'Added to your bag.';
});

function showError(err, context = '') {
  let message = String(err?.message ?? err).trim();
  if (!/[.!?]$/.test(message)) message += '.';
  if (!context) message = message.charAt(0).toUpperCase() + message.slice(1);
  ui.error.textContent = context ? `${context}: ${message}` : message;
  ui.error.dataset.code = err?.code ?? '';
  ui.error.hidden = false;
}

function hideError() {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

function clampInt(value, lo, hi, fallback) {
  const n = Number.parseInt(value ?? '', 10);
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : fallback;
}
