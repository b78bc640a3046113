// The part of <vitrine-styler> loaded when styling is wanted: the gallery, the controls, the before/after slider,
// the shopper's own styles (IndexedDB), the remembered look, downloads, and the client of the module worker
// (element-worker.js), which it restarts if it dies. element.js imports this module on first interaction, near the
// viewport (loading="lazy") or at once (reveal="auto").
// Helpers element.js shares with this file only, so its public declarations leave them out.
// @ts-ignore
import { adoptStyles, rememberedLook, rememberLook } from './element.js';

const DEBOUNCE_MS = 60;
const VECTOR_DEBOUNCE_MS = 250;
const LIVE_STATUS_MS = 3000; // a style vector's strength paints again: wait for the slider to pause
const THUMB_SIDE = 96;
const DB_NAME = 'vitrine-styler';

const SHEET = `
.panel { margin-top: 12px; display: grid; gap: 14px; }
.vh { position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0; overflow: hidden;
  clip-path: inset(50%); white-space: nowrap; }
fieldset { border: 0; margin: 0; padding: 0; min-width: 0; }
legend { padding: 0; margin-bottom: 6px; font-weight: 600; font-size: 14px; }
.tiles { display: grid; grid-auto-flow: column; grid-template-rows: repeat(var(--vitrine-gallery-rows, 2), 118px);
  grid-auto-columns: 84px; gap: 8px; overflow-x: auto; overscroll-behavior-x: contain; padding: 4px 4px 8px;
  scroll-padding: 4px; scroll-snap-type: x mandatory; }
@media (max-width: 600px) { .tiles { --vitrine-gallery-rows: 1; } }
/* Scrolled by hand or to the chosen look, the gallery comes to rest on a whole column at its left edge. */
.cell { position: relative; scroll-snap-align: start; }
.tile { display: grid; gap: 4px; cursor: pointer; font-size: 12px; line-height: 1.25; text-align: center;
  color: var(--vitrine-ink, #231d18); }
.thumb { position: relative; display: grid; place-items: center; width: 84px; height: 84px; overflow: hidden;
  border-radius: var(--vitrine-radius, 10px); background: var(--vitrine-line, #e4ddd3);
  border: 2px solid transparent; }
.thumb img { width: 100%; height: 100%; object-fit: cover; display: block; }
input:checked + .thumb { border-color: var(--vitrine-accent, #9c4a26); box-shadow: 0 0 0 2px var(--vitrine-accent, #9c4a26); }
input:focus-visible + .thumb, .add:focus-within .thumb { outline: 3px solid var(--vitrine-focus, #1f5fbf); outline-offset: 2px; }
input:disabled + .thumb { opacity: .5; }
.plus { font-size: 32px; line-height: 1; color: var(--vitrine-muted, #6f665d); }
.badge { position: absolute; left: 4px; top: 4px; padding: 0 5px; border-radius: 4px; font-size: 10px;
  background: var(--vitrine-surface, #fff); color: var(--vitrine-ink, #231d18); }
.remove { position: absolute; right: -4px; top: -4px; min-height: 0; width: 26px; height: 26px; padding: 0;
  border-radius: 50%; font-size: 15px; line-height: 1; }
.hint, .engine { margin: 4px 0 0; font-size: 13px; color: var(--vitrine-muted, #6f665d); }
.engine { min-height: 4.5em; }
.name { overflow: hidden; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; }
.controls { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 10px 18px; }
.control { display: grid; gap: 4px; font-size: 14px; }
.row { display: flex; justify-content: space-between; gap: 8px; }
select { font: inherit; padding: 6px 8px; border-radius: 8px; border: 1px solid var(--vitrine-line, #cfc6ba);
  background: var(--vitrine-surface, #fff); color: var(--vitrine-ink, #231d18); min-height: 40px; }
input[type=range] { width: 100%; accent-color: var(--vitrine-accent, #9c4a26); touch-action: pan-y; min-height: 28px; }
.check { display: flex; align-items: center; gap: 8px; }
.check input { width: 20px; height: 20px; accent-color: var(--vitrine-accent, #9c4a26); }
.actions { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; }
.compare { position: absolute; inset: 0; width: 100%; height: 100%; margin: 0; opacity: 0; cursor: ew-resize;
  touch-action: pan-y; }
.frame:has(.compare:focus-visible) { outline: 3px solid var(--vitrine-focus, #1f5fbf); outline-offset: 2px; }
.frame.dragging { outline: 3px dashed var(--vitrine-accent, #9c4a26); }
.gallery.dragging .tiles { outline: 3px dashed var(--vitrine-accent, #9c4a26); border-radius: 8px; }
.live-source, canvas.live { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain;
  clip-path: none; background: var(--vitrine-surface, #fff); }
`;

function coded(code, message) {
  return Object.assign(new Error(message), { code });
}

const format = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? '');

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'part' || k.startsWith('aria-') || k === 'role' || k === 'for') node.setAttribute(k, v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node[k] = v;
  }
  node.append(...children);
  return node;
}

/** The worker, restarted when it dies: the call in flight then fails with WORKER_FAILED and is retried once. */
class Engine {
  #worker = null;
  #started = null;
  #pending = new Map();
  #nextId = 1;
  #photoSent = null;
  info = null;
  /** @type {((error: Error) => void) | null} what a live session's failure in the worker calls */
  onLiveError = null;

  constructor(backend, onProgress) {
    this.backend = backend;
    this.onProgress = onProgress;
    this.photo = null; // { key, bitmap } (the decoded photo, resent to a new worker)
  }

  start() {
    this.#started ??= this.#spawn();
    return this.#started;
  }

  async #spawn() {
    const worker = new Worker(new URL('./element-worker.js', import.meta.url), { type: 'module', name: 'vitrine' });
    this.#worker = worker;
    this.#photoSent = null;
    worker.onmessage = ({ data }) => {
      if (data.type === 'progress') {
        this.onProgress(data.progress);
        return;
      }
      if (data.type === 'liveError') {
        this.onLiveError?.(coded(data.error.code, data.error.message));
        return;
      }
      const pending = this.#pending.get(data.id);
      if (!pending) return;
      this.#pending.delete(data.id);
      if (data.error) pending.reject(coded(data.error.code, data.error.message));
      else pending.resolve(data);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#died(event.message || 'the worker could not start or stopped');
    };
    worker.onmessageerror = () => this.#died('a message could not be read');
    this.info = await this.#raw('init', { backend: this.backend });
    return this.info;
  }

  #died(why) {
    if (!this.#worker) return;
    this.#worker.terminate();
    this.#worker = null;
    this.#started = null;
    const error = coded('WORKER_FAILED', `The styling worker stopped (${why}).`);
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }

  #raw(type, payload = {}, transfer = []) {
    const worker = this.#worker;
    if (!worker) return Promise.reject(coded('WORKER_FAILED', 'The styling worker stopped.'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, type, ...payload }, transfer);
    });
  }

  /** One call, after the worker (and the photo, for a render) is in place; once more on a fresh worker if it died. */
  async call(type, payload = {}, transfer = [], retry = true) {
    try {
      await this.start();
      if (type === 'render' && this.#photoSent !== this.photo?.key) {
        const copy = await createImageBitmap(this.photo.bitmap);
        await this.#raw('photo', { key: this.photo.key, bitmap: copy }, [copy]);
        this.#photoSent = this.photo.key;
      }
      return await this.#raw(type, payload, transfer);
    } catch (error) {
      // A crash, or a wasm trap that leaves the Styler unusable: a fresh worker, and the call once more.
      const broken = error.code === 'WORKER_FAILED' || error.code === 'INTERNAL';
      if (!broken || !retry || transfer.length > 0) throw error;
      if (error.code === 'INTERNAL') this.#died('an internal error');
      return this.call(type, payload, transfer, false);
    }
  }

  crash() {
    this.#raw('crash').catch(() => {});
  }

  stop() {
    this.#died('the element left the page');
  }
}

/** The shopper's styles in IndexedDB: { id, name, file, thumbnail (a JPEG data URL), created }. */
const saved = {
  db: null,
  open() {
    this.db ??= new Promise((resolve, reject) => {
      if (typeof indexedDB === 'undefined') throw new Error('no IndexedDB');
      const request = indexedDB.open(DB_NAME, 1);
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
  all: () => saved.run('readonly', (s) => s.getAll()),
  put: (style) => saved.run('readwrite', (s) => s.put(style)),
  remove: (id) => saved.run('readwrite', (s) => s.delete(id)),
};

/** A look string ('none', '19', '3:0.5,12:0.5' or a style's id) as { base, second, mix }. */
export function parseLook(text) {
  const value = String(text ?? '').trim();
  if (!value || value === 'none') return { base: null, second: null, mix: 0.5 };
  if (/^\d+$/.test(value)) return { base: Number(value), second: null, mix: 0.5 };
  const pair = value.match(/^(\d+):([\d.]+),(\d+):([\d.]+)$/);
  if (pair) {
    const [a, wa, b, wb] = [Number(pair[1]), Number(pair[2]), Number(pair[3]), Number(pair[4])];
    const sum = wa + wb;
    if (sum > 0) return { base: a, second: b, mix: wb / sum };
  }
  return { base: value, second: null, mix: 0.5 };
}

export function formatLook({ base, second, mix }) {
  if (base === null) return 'none';
  if (typeof base === 'string') return base;
  if (second === null || second === base || mix <= 0) return String(base);
  if (mix >= 1) return String(second);
  return `${base}:${(1 - mix).toFixed(2)},${second}:${mix.toFixed(2)}`;
}

export class Controller {
  loaded = false;
  busy = false;
  focusOnLoad = false; // the shopper pressed the button from the keyboard: go on in the gallery
  shownLook = null;
  #host;
  #p; // the eager part's elements
  #engine;
  #presets = [];
  #vectors = new Map(); // id -> { id, name, file, thumbnail, kind: 'shop' | 'own' }
  #state = { base: null, second: null, mix: 0.5, strength: 1, keep: false };
  #timer = 0;
  #inFlight = false;
  #again = false;
  #photoKey = 0;
  #photoName = 'photo';
  #shownImage = null;
  #ui = {};
  #ownCount = 0;
  // The live session: { kind, video, canvas, stream, credit, dropped, stats, running, first }, or null.
  #live = null;

  constructor(host) {
    this.#host = host;
    this.#p = host.parts;
    this.#engine = new Engine(host.backend, (progress) => host.showProgress(progress));
    this.#engine.onLiveError = (error) => this.#liveFailed(error);
    this.#state.strength = host.strength;
    this.#state.keep = host.preserveColor;
    Object.assign(this.#state, parseLook(host.look));
    this.#build();
    this.ready = this.#start();
  }

  get #s() {
    return this.#host.strings;
  }

  async #start() {
    const host = this.#host;
    host.status(this.#s.loading);
    const photo = this.#loadPhoto();
    photo.catch(() => {});
    const shop = this.#loadShopStyles();
    let info;
    try {
      info = await this.#engine.start();
    } catch (error) {
      host.showError(error);
      throw error;
    }
    this.#presets = info.styles;
    await shop;
    await this.#loadOwnStyles();
    this.loaded = true;
    this.#fillGallery();
    host.showProgress(null);
    this.#describeEngine();
    // The shopper's remembered look comes first, over the page's `look`.
    const remembered = host.remember ? rememberedLook() : null;
    if (remembered && this.#known(parseLook(remembered.look))) {
      Object.assign(this.#state, parseLook(remembered.look));
      this.#state.strength = Number.isFinite(remembered.strength) ? remembered.strength : 1;
      this.#state.keep = Boolean(remembered.preserveColor);
      this.#reflect();
      host.status(format(this.#s.remembered, { look: this.#describe() }));
      this.#lookChanged('remembered');
    }
    this.#sync();
    if (this.focusOnLoad) this.focusGallery();
    host.dispatchEvent(new CustomEvent('load', { detail: { backend: info.backend, fallbackReason: info.fallbackReason } }));
    try {
      await photo;
    } catch (error) {
      host.showError(error);
      return;
    }
    this.#render(0);
  }

  // ----------------------------------------------------------------------------------------------------
  // The photo

  async #loadPhoto() {
    const key = ++this.#photoKey;
    const host = this.#host;
    const src = host.src || host.poster?.currentSrc || host.poster?.src;
    this.#p.canvas.hidden = true;
    this.#shown(null);
    if (!src) throw coded('BAD_IMAGE', 'Give the element a photo: a src attribute or an <img> child.');
    this.#photoName = decodeURIComponent(src.split(/[?#]/)[0].split('/').pop() || 'photo').replace(/\.[^.]*$/, '') || 'photo';
    if (src.startsWith('blob:')) this.#photoName = 'your-photo';
    const img = new Image();
    img.crossOrigin = host.poster?.crossOrigin ?? null;
    img.src = src;
    try {
      await img.decode();
    } catch (cause) {
      // The last photo that could be read stays on show (the poster now points at what could not be).
      if (this.#engine.photo && key === this.#photoKey) this.#showLastPhoto();
      throw Object.assign(coded('BAD_IMAGE', `${src} could not be decoded as an image (${cause.message})`), { cause });
    }
    const bitmap = await createImageBitmap(img, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    if (key !== this.#photoKey) {
      bitmap.close();
      return;
    }
    this.#engine.photo?.bitmap.close();
    this.#engine.photo = { key, bitmap };
    this.#p.canvas.width = bitmap.width;
    this.#p.canvas.height = bitmap.height;
    this.#p.frame.style.setProperty('--vitrine-ratio', `${bitmap.width} / ${bitmap.height}`);
    this.#p.frame.classList.add('sized');
    if (this.#ui.originalThumb) this.#ui.originalThumb.src = src;
  }

  attributeChanged(name) {
    const host = this.#host;
    if (name === 'src') {
      this.#host.hideError();
      const loading = this.#loadPhoto();
      loading.then(() => this.#render(0), (error) => host.showError(error));
      return;
    }
    if (name === 'look') Object.assign(this.#state, parseLook(host.look));
    else if (name === 'strength') this.#state.strength = Math.min(1, Math.max(0, host.strength));
    else if (name === 'preserve-color') this.#state.keep = host.preserveColor;
    else if (name === 'looks') this.#fillGallery();
    else if (name === 'video') {
      this.#labelLive();
      return;
    }
    else if (name === 'max-size' || name === 'background') {
      this.#render();
      return;
    } else return;
    if (!this.loaded) return;
    this.#sync();
    this.#lookChanged('attribute');
    this.#render(this.#isVector() && name === 'strength' ? VECTOR_DEBOUNCE_MS : DEBOUNCE_MS);
  }

  disconnected() {
    // A move in the page disconnects and reconnects at once: the worker stays unless the element stays away.
    setTimeout(() => {
      if (this.#host.isConnected) return;
      if (this.#live) this.#endLive(this.#live);
      this.#engine.stop();
    }, 1000);
  }

  // ----------------------------------------------------------------------------------------------------
  // The panel

  #build() {
    const s = this.#s;
    const root = this.#host.shadowRoot;
    adoptStyles(root, SHEET);
    const ui = this.#ui;
    // The before/after slider lies over the frame.
    ui.compare = el('input', { type: 'range', className: 'compare', min: 0, max: 100, step: 1, value: 50, part: 'compare', hidden: true });
    ui.compare.addEventListener('input', () => this.#p.frame.style.setProperty('--pos', `${ui.compare.value}%`));
    this.#p.frame.append(ui.compare);

    ui.tiles = el('div', { className: 'tiles', part: 'tiles' });
    ui.legend = el('legend', { part: 'legend' }, el('slot', { name: 'gallery' }));
    ui.hint = el('p', { className: 'hint', part: 'hint', id: 'vitrine-hint' });
    ui.gallery = el('fieldset', { className: 'gallery', part: 'gallery', 'aria-describedby': 'vitrine-hint' }, ui.legend, ui.tiles, ui.hint);

    ui.second = el('select', { id: 'vitrine-second', part: 'second' });
    ui.secondLabel = el('label', { for: 'vitrine-second' });
    ui.mix = el('input', { type: 'range', id: 'vitrine-mix', min: 0, max: 100, step: 5, value: 50, part: 'mix' });
    ui.mixLabel = el('label', { for: 'vitrine-mix' });
    ui.mixOut = el('output', { for: 'vitrine-mix' });
    ui.strength = el('input', { type: 'range', id: 'vitrine-strength', min: 0, max: 100, step: 1, value: 100, part: 'strength' });
    ui.strengthLabel = el('label', { for: 'vitrine-strength' });
    ui.strengthOut = el('output', { for: 'vitrine-strength' });
    ui.keep = el('input', { type: 'checkbox', id: 'vitrine-keep', part: 'keep', role: 'switch' });
    ui.keepLabel = el('label', { for: 'vitrine-keep' });
    ui.controls = el('div', { className: 'controls', part: 'controls' },
      el('div', { className: 'control' }, ui.secondLabel, ui.second),
      el('div', { className: 'control' }, el('div', { className: 'row' }, ui.mixLabel, ui.mixOut), ui.mix),
      el('div', { className: 'control' }, el('div', { className: 'row' }, ui.strengthLabel, ui.strengthOut), ui.strength),
      el('div', { className: 'control check' }, ui.keep, ui.keepLabel));

    ui.download = el('button', { type: 'button', part: 'download', className: 'primary' }, el('slot', { name: 'download' }));
    ui.engine = el('p', { className: 'engine', part: 'engine' });
    ui.liveCamera = el('button', { type: 'button', part: 'live-camera' });
    ui.liveVideo = el('button', { type: 'button', part: 'live-video', hidden: true });
    ui.snapshot = el('button', { type: 'button', part: 'snapshot', hidden: true });
    ui.actions = el('div', { className: 'actions', part: 'actions' }, ui.download, ui.liveCamera, ui.liveVideo, ui.snapshot);
    this.#p.panel.append(ui.gallery, ui.controls, ui.actions, ui.engine);
    this.#p.panel.hidden = false;
    this.relabel();
    this.#fillGallery();
    this.#wire();
  }

  relabel() {
    const s = this.#s;
    const ui = this.#ui;
    ui.compare.setAttribute('aria-label', s.compare);
    ui.legend.querySelector('slot').textContent = s.gallery;
    ui.hint.textContent = s.ownStyleHint;
    ui.secondLabel.textContent = s.second;
    ui.mixLabel.textContent = s.mix;
    ui.strengthLabel.textContent = s.strength;
    ui.keepLabel.textContent = s.keep;
    ui.download.querySelector('slot').textContent = s.download;
    this.#labelLive();
    this.#p.before.textContent = s.photo;
    this.#p.after.textContent = s.painted;
    if (this.loaded) {
      this.#fillGallery();
      this.#describeEngine();
    }
  }

  /** The gallery: the photo itself, the looks (`looks`, or the shop's styles and every preset), the shopper's styles. */
  #fillGallery() {
    const ui = this.#ui;
    const s = this.#s;
    const checked = formatLook({ ...this.#state, second: null });
    ui.tiles.replaceChildren();
    ui.originalThumb = el('img', { alt: '', width: THUMB_SIDE, height: THUMB_SIDE, src: this.#host.src || this.#host.poster?.currentSrc || '' });
    ui.tiles.append(this.#tile('none', s.original, ui.originalThumb));
    for (const entry of this.galleryList()) {
      const thumb = entry.thumbnail ? el('img', { alt: '', width: THUMB_SIDE, height: THUMB_SIDE, src: entry.thumbnail, loading: 'lazy', decoding: 'async' }) : null;
      const cell = this.#tile(entry.look, entry.name, thumb, entry.kind);
      ui.tiles.append(cell);
    }
    ui.file = el('input', { type: 'file', accept: 'image/*', className: 'vh' });
    ui.file.addEventListener('change', () => {
      const file = ui.file.files?.[0];
      if (file) this.addOwnStyle(file, file.name);
      ui.file.value = '';
    });
    ui.tiles.append(el('label', { className: 'tile add', part: 'tile add-style' }, ui.file,
      el('span', { className: 'thumb', part: 'thumb', 'aria-hidden': 'true' }, el('span', { className: 'plus', textContent: '+' })),
      el('span', { className: 'name', part: 'name', textContent: s.ownStyle })));
    const input = ui.tiles.querySelector(`input[value="${CSS.escape(checked)}"]`);
    if (input) input.checked = true;
    this.#enable();
  }

  /** [{ look, name, thumbnail, kind }]: the `looks` attribute's order, or the shop's styles then the presets. */
  galleryList() {
    const presets = this.#presets.map((p) => ({ look: String(p.id), name: p.name, thumbnail: p.thumbnail, kind: 'preset' }));
    const vectors = [...this.#vectors.values()].map((v) => ({ look: v.id, name: v.name, thumbnail: v.thumbnail, kind: v.kind }));
    const shop = vectors.filter((v) => v.kind === 'shop');
    const own = vectors.filter((v) => v.kind === 'own');
    const configured = this.#host.config.looks;
    const list = this.#host.looks || (Array.isArray(configured) ? configured.join(',') : '');
    const wanted = list.split(',').map((x) => x.trim()).filter(Boolean);
    if (wanted.length === 0) return [...shop, ...own, ...presets];
    const all = new Map([...shop, ...presets].map((e) => [e.look, e]));
    return [...wanted.map((look) => all.get(look)).filter(Boolean), ...own];
  }

  #tile(look, name, thumb, kind = 'original') {
    const input = el('input', { type: 'radio', name: 'look', value: look, className: 'vh' });
    const thumbBox = el('span', { className: 'thumb', part: 'thumb' }, ...(thumb ? [thumb] : []));
    if (kind === 'shop') thumbBox.append(el('span', { className: 'badge', textContent: this.#s.house, 'aria-hidden': 'true' }));
    const label = el('label', { className: 'tile', part: `tile ${kind}` }, input, thumbBox, el('span', { className: 'name', part: 'name', textContent: name }));
    const cell = el('div', { className: `cell ${kind}`, dataset: { look } }, label);
    if (kind === 'own') {
      const remove = el('button', { type: 'button', className: 'remove', part: 'remove', textContent: '×',
        'aria-label': format(this.#s.removeStyle, { name }), title: format(this.#s.removeStyle, { name }) });
      remove.addEventListener('click', () => this.removeStyle(look));
      cell.append(remove);
    }
    return cell;
  }

  #enable() {
    const on = this.loaded;
    for (const input of this.#ui.tiles.querySelectorAll('input')) input.disabled = !on;
    for (const b of this.#ui.tiles.querySelectorAll('.remove')) b.disabled = !on;
  }

  #wire() {
    const ui = this.#ui;
    ui.tiles.addEventListener('change', (event) => {
      if (event.target.name !== 'look') return;
      Object.assign(this.#state, { base: parseLook(event.target.value).base });
      this.#userChanged();
    });
    ui.second.addEventListener('change', () => {
      this.#state.second = ui.second.value === 'none' ? null : Number(ui.second.value);
      this.#userChanged();
    });
    ui.mix.addEventListener('input', () => {
      this.#state.mix = Number(ui.mix.value) / 100;
      this.#sync();
    });
    // The mix runs the network again: on release (and on each key), not on every pixel of a drag.
    ui.mix.addEventListener('change', () => {
      this.#state.mix = Number(ui.mix.value) / 100;
      this.#userChanged();
    });
    ui.strength.addEventListener('input', () => {
      this.#state.strength = Number(ui.strength.value) / 100;
      this.#userChanged(this.#isVector() ? VECTOR_DEBOUNCE_MS : 0);
    });
    ui.keep.addEventListener('change', () => {
      this.#state.keep = ui.keep.checked;
      this.#userChanged();
    });
    ui.download.addEventListener('click', () => this.#download());
    ui.liveCamera.addEventListener('click', () => (this.#live?.kind === 'camera' ? this.stopLive() : this.startLive('camera')).catch(() => {}));
    ui.liveVideo.addEventListener('click', () => (this.#live?.kind === 'video' ? this.stopLive() : this.startLive('video')).catch(() => {}));
    ui.snapshot.addEventListener('click', () => this.#saveSnapshot());
    // Delete or Backspace on one of the shopper's styles removes it.
    ui.tiles.addEventListener('keydown', (event) => {
      if (event.key !== 'Delete' && event.key !== 'Backspace') return;
      const cell = event.target.closest?.('.cell.own');
      if (!cell || event.target.name !== 'look') return;
      event.preventDefault();
      this.removeStyle(cell.dataset.look);
    });
    // A picture dropped on the gallery, or pasted while it has focus, becomes a style.
    const gallery = ui.gallery;
    const files = (event) => Array.from(event.dataTransfer?.types ?? []).includes('Files');
    gallery.addEventListener('dragenter', (event) => {
      if (!files(event)) return;
      event.preventDefault();
      gallery.classList.add('dragging');
    });
    gallery.addEventListener('dragover', (event) => {
      if (!files(event)) return;
      event.preventDefault();
      event.stopPropagation();
      event.dataTransfer.dropEffect = 'copy';
    });
    gallery.addEventListener('dragleave', (event) => {
      if (!gallery.contains(event.relatedTarget)) gallery.classList.remove('dragging');
    });
    gallery.addEventListener('drop', (event) => {
      gallery.classList.remove('dragging');
      if (!files(event)) return;
      event.preventDefault();
      event.stopPropagation();
      const file = event.dataTransfer.files[0];
      this.addOwnStyle(file, file?.name);
    });
    gallery.addEventListener('paste', (event) => {
      const item = Array.from(event.clipboardData?.items ?? []).find((i) => i.kind === 'file');
      if (!item) return;
      event.preventDefault();
      event.stopPropagation();
      this.addOwnStyle(item.getAsFile(), 'Pasted picture');
    });
  }

  // ----------------------------------------------------------------------------------------------------
  // Looks

  #isVector() {
    return typeof this.#state.base === 'string';
  }

  #known({ base, second }) {
    if (base === null) return true;
    if (typeof base === 'string') return this.#vectors.has(base);
    const presetOk = (i) => Number.isInteger(i) && i >= 0 && i < this.#presets.length;
    return presetOk(base) && (second === null || presetOk(second));
  }

  /** What Styler.stylize takes as `style` for the current look, or null for the photo itself. */
  #style() {
    const { base, second, mix } = this.#state;
    if (base === null) return null;
    if (typeof base === 'string') return this.#vectors.get(base)?.file ?? null;
    if (second === null || second === base || mix <= 0) return base;
    if (mix >= 1) return second;
    return { [base]: 1 - mix, [second]: mix };
  }

  #describe() {
    const { base, second, mix } = this.#state;
    const name = (i) => this.#presets[i]?.name ?? `style ${i}`;
    if (base === null) return this.#s.original;
    if (typeof base === 'string') return this.#vectors.get(base)?.name ?? base;
    const style = this.#style();
    if (typeof style === 'number') return name(style);
    return `${Math.round((1 - mix) * 100)}% ${name(base)} and ${Math.round(mix * 100)}% ${name(second)}`;
  }

  #detail() {
    return {
      look: formatLook(this.#state),
      name: this.#describe(),
      style: this.#style(),
      strength: this.#state.strength,
      preserveColor: this.#state.keep,
    };
  }

  /** Keeps the attributes in step with the shopper's choice (so `element.look` is what is shown). */
  #reflect() {
    const host = this.#host;
    host.setOwn('look', formatLook(this.#state));
    host.setOwn('strength', this.#state.strength);
    host.setOwn('preserve-color', this.#state.keep);
  }

  #userChanged(delay = DEBOUNCE_MS) {
    this.#reflect();
    this.#sync();
    if (this.#host.remember) {
      const { look, strength, preserveColor } = this.#detail();
      if (look === 'none') rememberLook(null);
      else rememberLook({ look, strength, preserveColor });
      this.#p.forget.hidden = look === 'none';
    }
    this.#lookChanged('user');
    this.#render(delay);
  }

  #lookChanged(source) {
    this.#host.dispatchEvent(new CustomEvent('look-change', { detail: { ...this.#detail(), source } }));
  }

  /** The controls as the state says. */
  #sync() {
    const ui = this.#ui;
    const on = this.loaded;
    const { base, second, mix, strength, keep } = this.#state;
    const styled = on && base !== null;
    const preset = styled && typeof base === 'number';
    const value = formatLook({ base, second: null, mix });
    const radio = ui.tiles.querySelector(`input[value="${CSS.escape(value)}"]`);
    if (radio && !radio.checked) radio.checked = true;
    if (ui.second.options.length !== this.#presets.length + 1) {
      ui.second.replaceChildren(new Option(this.#s.noSecond, 'none'), ...this.#presets.map((p) => new Option(p.name, String(p.id))));
    }
    ui.second.value = second === null ? 'none' : String(second);
    ui.second.disabled = !preset;
    const mixing = preset && second !== null && second !== base;
    ui.mix.disabled = !mixing;
    ui.mix.value = String(Math.round(mix * 100));
    if (mixing) {
      const b = Math.round(mix * 100);
      ui.mixOut.textContent = `${100 - b} : ${b}`;
      ui.mix.setAttribute('aria-valuetext', `${100 - b}% ${this.#presets[base]?.name}, ${b}% ${this.#presets[second]?.name}`);
    } else {
      ui.mixOut.textContent = '—';
      ui.mix.removeAttribute('aria-valuetext');
    }
    ui.strength.disabled = !styled;
    ui.strength.value = String(Math.round(strength * 100));
    ui.strengthOut.textContent = `${Math.round(strength * 100)}%`;
    ui.keep.disabled = !styled;
    ui.keep.checked = keep;
    ui.download.disabled = !styled || this.shownLook === null;
  }

  // ----------------------------------------------------------------------------------------------------
  // Styling: one request in flight; while it runs only the latest wish is kept, and a stale result is dropped.

  #render(delay = DEBOUNCE_MS) {
    if (this.#live) this.#liveUpdate();
    this.busy = true;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#pump(), delay);
  }

  #wish() {
    const style = this.#style();
    if (style === null) return null;
    const { base } = this.#state;
    const kind = typeof base === 'string' ? { kind: 'vector', id: base, file: style } : { kind: 'presets', mix: typeof style === 'number' ? { [style]: 1 } : style };
    return {
      key: `${this.#photoKey}|${formatLook(this.#state)}|${this.#state.strength}|${this.#state.keep}|${this.#host.maxSize}|${this.#host.background}`,
      request: { style: kind, strength: this.#state.strength, preserveColor: this.#state.keep, maxSize: Math.max(0, Math.round(this.#host.maxSize)), background: this.#host.background },
    };
  }

  async #pump() {
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    const host = this.#host;
    const wish = this.#wish();
    if (!this.loaded || !this.#engine.photo || this.#engine.photo.key !== this.#photoKey) {
      this.busy = false;
      return;
    }
    if (wish === null) {
      this.#shown(null);
      this.busy = false;
      this.#sync();
      return;
    }
    this.#inFlight = true;
    this.#again = false;
    const busyTimer = setTimeout(() => host.status(this.#s.styling), 120);
    const detail = this.#detail();
    try {
      const result = await this.#engine.call('render', { photo: this.#engine.photo.key, ...wish.request });
      if (!this.#again && this.#wish()?.key === wish.key) this.#show(result, detail);
    } catch (error) {
      if (!this.#again) {
        this.#shown(null);
        host.showError(error);
      }
    } finally {
      clearTimeout(busyTimer);
      this.#inFlight = false;
      if (this.#again) this.#pump();
      else {
        host.showProgress(null);
        this.busy = false;
        this.#sync();
      }
    }
  }

  #show(result, detail) {
    const { image } = result;
    const canvas = this.#p.canvas;
    if (canvas.width !== image.width || canvas.height !== image.height) {
      canvas.width = image.width;
      canvas.height = image.height;
    }
    canvas.getContext('2d').putImageData(image, 0, 0);
    // A cut-out shows on a checkerboard, not over the poster's backdrop.
    canvas.classList.toggle('cutout', result.background?.applied === 'transparent');
    this.#shownImage = { width: image.width, height: image.height };
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', format(this.#s.styledImage, { look: detail.name }));
    this.#host.hideError();
    this.#shown(detail.look);
    this.#host.status(format(this.#s.styled, { look: detail.name }));
    if (!result.cached) this.#describeEngine(result.ms, image);
    if (result.backend && this.#engine.info) this.#engine.info.backend = result.backend;
    this.#host.dispatchEvent(new CustomEvent('stylize', { detail: { ...detail, ms: result.ms, cached: result.cached, width: image.width, height: image.height, background: result.background } }));
  }

  #showLastPhoto() {
    const { bitmap } = this.#engine.photo;
    const canvas = this.#p.canvas;
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    canvas.getContext('2d').drawImage(bitmap, 0, 0);
    canvas.classList.add('whole');
    canvas.classList.remove('cutout');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', this.#host.alt || this.#s.photo);
    canvas.hidden = false;
  }

  /** The styled image over the photo (a look), or the photo alone (null). */
  #shown(look) {
    this.shownLook = look;
    this.#p.canvas.classList.remove('whole');
    const on = look !== null;
    this.#p.canvas.hidden = !on;
    this.#p.divider.hidden = !on;
    this.#p.before.hidden = !on;
    this.#p.after.hidden = !on;
    if (this.#ui.compare) this.#ui.compare.hidden = !on;
  }

  #describeEngine(ms, size) {
    const info = this.#engine.info;
    if (!info) return;
    let text = info.backend === 'webgpu' ? this.#s.onGpu : this.#s.onCpu;
    if (ms !== undefined) {
      const time = ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
      text += ` ${format(this.#s.timing, { ms: time, width: size.width, height: size.height })}`;
    }
    this.#ui.engine.textContent = text;
    this.#ui.engine.dataset.backend = info.backend;
    this.#ui.engine.title = info.fallbackReason ?? '';
  }

  // ----------------------------------------------------------------------------------------------------
  // Styles as vectors: the shop's (the JSON child script) and the shopper's own (IndexedDB)

  async #loadShopStyles() {
    const entries = Array.isArray(this.#host.config.styles) ? this.#host.config.styles : [];
    const loaded = await Promise.all(entries.map(async (entry, index) => {
      try {
        let file = entry.vector;
        if (typeof file === 'string') {
          const response = await fetch(new URL(file, document.baseURI));
          if (!response.ok) throw new Error(`${file} gave HTTP ${response.status}`);
          file = await response.json();
        }
        if (file?.format !== 'vitrine-style' || !Array.isArray(file.vector)) {
          throw new Error('its vector is not a style file ({ format: "vitrine-style", version, model, vector })');
        }
        const name = String(entry.name ?? `House style ${index + 1}`).slice(0, 40);
        const id = String(entry.id ?? name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, ''));
        if (/^\d/.test(id) || id === 'none') throw new Error(`its id "${id}" must not start with a digit or be "none"`);
        const thumbnail = entry.thumbnail ? new URL(entry.thumbnail, document.baseURI).href : null;
        return { id, name, file, thumbnail, kind: 'shop' };
      } catch (error) {
        console.warn(`<vitrine-styler>: the shop's style ${index + 1} (${entry?.name ?? 'unnamed'}) is left out: ${error.message}`);
        return null;
      }
    }));
    for (const style of loaded) if (style) this.#vectors.set(style.id, style);
  }

  async #loadOwnStyles() {
    let list = [];
    try {
      list = await saved.all();
    } catch (error) {
      console.warn(`<vitrine-styler>: your saved styles could not be read (${error.message}); new ones last until the page closes`);
      return;
    }
    list.sort((a, b) => (a.created ?? 0) - (b.created ?? 0));
    for (const { id, name, file, thumbnail } of list) this.#vectors.set(id, { id, name, file, thumbnail, kind: 'own' });
  }

  /** A picture from the shopper: its style vector, a thumbnail, a gallery tile, kept in IndexedDB; then chosen. */
  async addOwnStyle(blob, label = 'Your style') {
    const host = this.#host;
    await this.ready.catch(() => {});
    if (!blob || !String(blob.type).startsWith('image/')) {
      host.showError(coded('BAD_IMAGE', 'the file given as a style is not an image'));
      return;
    }
    host.hideError();
    let bitmap;
    try {
      bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    } catch (cause) {
      host.showError(Object.assign(coded('BAD_IMAGE', `the style picture could not be decoded (${cause.message})`), { cause }));
      return;
    }
    this.#ownCount += 1;
    const base = String(label).replace(/\.[^.]+$/, '').replace(/[_-]+/g, ' ').replace(/\s+/g, ' ').trim();
    const name = (base.charAt(0).toUpperCase() + base.slice(1)).slice(0, 28) || 'Your style';
    const style = { id: `own-${Date.now().toString(36)}-${this.#ownCount}`, name, thumbnail: squareThumbnail(bitmap), created: Date.now() };
    host.status(this.#s.readingStyle);
    this.busy = true;
    try {
      const { style: file } = await this.#engine.call('styleOf', { bitmap }, [bitmap]);
      style.file = file;
    } catch (error) {
      this.busy = false;
      host.showError(error);
      return;
    }
    this.#vectors.set(style.id, { ...style, kind: 'own' });
    try {
      await saved.put(style);
    } catch (error) {
      console.warn(`<vitrine-styler>: your style could not be kept in this browser (${error.message}); it lasts until the page closes`);
    }
    this.#fillGallery();
    this.#state.base = style.id;
    this.#state.second = null;
    this.#userChanged(0);
    this.#ui.tiles.querySelector(`input[value="${CSS.escape(style.id)}"]`)?.focus();
  }

  async removeStyle(id) {
    const cell = this.#ui.tiles.querySelector(`.cell.own[data-look="${CSS.escape(id)}"]`);
    if (!cell) return;
    const hadFocus = cell.matches(':focus-within');
    // Focus moves to the next tile, so a keyboard user stays in the gallery.
    const nextLook = cell.nextElementSibling?.dataset.look;
    this.#vectors.delete(id);
    this.#engine.call('forgetStyle', { id }).catch(() => {});
    const wasChosen = this.#state.base === id;
    if (wasChosen) this.#state.base = null;
    this.#fillGallery();
    if (wasChosen) this.#userChanged(0);
    if (hadFocus) {
      const next = nextLook ? this.#ui.tiles.querySelector(`input[value="${CSS.escape(nextLook)}"]`) : this.#ui.file;
      (next ?? this.#ui.file).focus();
    }
    if (rememberedLook()?.look === id) rememberLook(null);
    try {
      await saved.remove(id);
    } catch (error) {
      console.warn(`<vitrine-styler>: your style could not be removed from this browser's storage (${error.message})`);
    }
  }

  // ----------------------------------------------------------------------------------------------------
  // Live: the camera or the shop's clip, painted frame by frame in the worker (Styler.live on an OffscreenCanvas).
  // The page sends a frame only once the worker has answered the last, so frames are dropped here, never queued.

  #labelLive() {
    const ui = this.#ui;
    const s = this.#s;
    const kind = this.#live?.kind;
    ui.liveCamera.textContent = kind === 'camera' ? s.liveStop : s.liveCamera;
    ui.liveVideo.textContent = kind === 'video' ? s.liveStop : s.liveVideo;
    ui.liveVideo.hidden = !this.#host.video;
    ui.snapshot.textContent = s.snapshot;
    ui.snapshot.hidden = !kind;
    ui.liveCamera.setAttribute('aria-pressed', String(kind === 'camera'));
    ui.liveVideo.setAttribute('aria-pressed', String(kind === 'video'));
  }

  /** { framesShown, framesDropped, fps, width, height, readbacks, latencyMs, path, backend } of the live session. */
  get liveStats() {
    const live = this.#live;
    if (!live?.stats) return null;
    return { ...live.stats, framesDropped: live.stats.framesDropped + live.dropped };
  }

  #liveRequest() {
    const wish = this.#wish();
    const style = wish?.request.style ?? { kind: 'presets', mix: { [this.#presets[0]?.id ?? 0]: 1 } };
    return { style, strength: this.#state.strength, preserveColor: this.#state.keep };
  }

  #liveUpdate() {
    this.#engine.call('liveUpdate', this.#liveRequest()).catch((error) => this.#liveFailed(error));
  }

  async startLive(kind) {
    await this.ready;
    if (this.#live) await this.stopLive(false);
    const host = this.#host;
    const s = this.#s;
    host.hideError();
    const video = el('video', { className: 'live-source', part: 'live-source', muted: true, playsInline: true, autoplay: true });
    video.muted = true;
    const live = { kind, video, canvas: null, stream: null, credit: true, dropped: 0, stats: null, running: true, callback: 0, error: null };
    live.first = new Promise((resolve) => {
      live.shown = resolve;
    });
    try {
      if (kind === 'camera') {
        if (!globalThis.navigator?.mediaDevices?.getUserMedia) throw coded('CAMERA_MISSING', 'this browser gives the page no camera (navigator.mediaDevices is missing; camera access needs https)');
        host.status(s.liveStarting);
        try {
          live.stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
        } catch (error) {
          throw cameraError(error);
        }
        const [track] = live.stream.getVideoTracks();
        track?.addEventListener('ended', () => {
          if (this.#live === live) this.#liveFailed(coded('CAMERA_LOST', 'the camera stopped sending frames (unplugged, or taken by another app)'));
        });
        video.srcObject = live.stream;
      } else {
        if (!host.video) throw coded('VIDEO_FAILED', 'give the element a video attribute: the URL of the product clip');
        video.crossOrigin = host.poster?.crossOrigin ?? null;
        video.loop = true;
        video.src = new URL(host.video, document.baseURI).href;
      }
      this.#live = live;
      live.canvas = el('canvas', { className: 'live', part: 'live' });
      this.#p.frame.append(video, live.canvas);
      try {
        await video.play();
      } catch (error) {
        throw coded(kind === 'camera' ? 'CAMERA_LOST' : 'VIDEO_FAILED', `the ${kind === 'camera' ? 'camera' : 'video'} could not play (${error.message})`);
      }
      const offscreen = live.canvas.transferControlToOffscreen();
      await this.#engine.call('liveStart', { canvas: offscreen, ...this.#liveRequest() }, [offscreen]);
      this.#pumpLive(live);
      this.#labelLive();
      // False when the session ended before its first frame (#liveFailed has said why).
      if (!(await live.first)) throw live.error ?? coded('CAMERA_LOST', 'live painting stopped before its first frame');
      this.#liveStatus();
    } catch (error) {
      if (this.#live === live || this.#live === null) await this.#endLive(live);
      host.showError(error);
      host.status(this.#p.error.textContent);
      throw error;
    }
  }

  // Each presented frame goes to the worker when it is free; a frame that comes while it is busy is dropped.
  #pumpLive(live) {
    const { video } = live;
    const next = () => {
      if (!live.running) return;
      live.callback = typeof video.requestVideoFrameCallback === 'function'
        ? video.requestVideoFrameCallback(next)
        : requestAnimationFrame(next);
      if (!live.credit) {
        live.dropped += 1;
        return;
      }
      if (video.readyState < 2) return;
      live.credit = false;
      const frame = typeof VideoFrame === 'function' ? Promise.resolve().then(() => new VideoFrame(video)) : createImageBitmap(video);
      frame.then((picture) => this.#engine.call('liveFrame', { frame: picture }, [picture]).catch((error) => {
        picture.close();
        throw error;
      })).then(({ drawn, stats }) => {
        live.credit = true;
        if (stats) live.stats = stats;
        if (drawn) {
          live.shown(true);
          // The status line is a live region: it speaks the figures every few seconds, not every frame.
          if (this.#live === live && performance.now() - (live.said ?? 0) > LIVE_STATUS_MS) {
            live.said = performance.now();
            this.#liveStatus();
          }
        }
      }, (error) => {
        live.credit = true;
        if (live.running) this.#liveFailed(error);
      });
    };
    live.callback = typeof video.requestVideoFrameCallback === 'function' ? video.requestVideoFrameCallback(next) : requestAnimationFrame(next);
  }

  #liveStatus() {
    const stats = this.liveStats;
    if (!stats) return;
    const fps = stats.fps > 0 ? stats.fps.toFixed(1) : '…';
    this.#host.status(format(this.#s.liveOn, { look: this.#describe(), fps, width: stats.width, height: stats.height }));
  }

  async #endLive(live) {
    live.running = false;
    live.shown(false);
    const { video } = live;
    if (typeof video.cancelVideoFrameCallback === 'function') video.cancelVideoFrameCallback(live.callback);
    cancelAnimationFrame(live.callback);
    if (this.#live === live) {
      this.#live = null;
      try {
        const { stats } = await this.#engine.call('liveStop');
        if (stats) live.stats = stats;
      } catch {
        // A worker that died has nothing left to stop.
      }
    }
    for (const track of live.stream?.getTracks() ?? []) track.stop();
    video.pause();
    video.srcObject = null;
    video.removeAttribute('src');
    video.load();
    video.remove();
    live.canvas?.remove();
    this.#labelLive();
  }

  async stopLive(say = true) {
    const live = this.#live;
    if (!live) return null;
    await this.#endLive(live);
    if (say) this.#host.status(this.#s.liveStopped);
    return live.stats;
  }

  #liveFailed(error) {
    const live = this.#live;
    if (!live) return;
    live.error = error;
    this.#endLive(live).finally(() => {
      this.#host.showError(error);
      this.#host.status(this.#p.error.textContent);
    });
  }

  async snapshot() {
    if (!this.#live) throw coded('NOT_STYLED', 'Nothing plays live: start the camera or the video first.');
    return (await this.#engine.call('liveSnapshot')).blob;
  }

  async #saveSnapshot() {
    let blob;
    try {
      blob = await this.snapshot();
    } catch (error) {
      this.#host.showError(error);
      return;
    }
    const a = el('a', { href: URL.createObjectURL(blob), download: `${this.#photoName}-live.png` });
    a.hidden = true;
    this.#host.shadowRoot.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  simulateCameraLoss() {
    const track = this.#live?.stream?.getVideoTracks()[0];
    if (!track) return false;
    track.stop();
    track.dispatchEvent(new Event('ended'));
    return true;
  }

  // ----------------------------------------------------------------------------------------------------
  // Output

  async toBlob() {
    await this.ready;
    if (this.shownLook === null) throw coded('NOT_STYLED', 'Nothing is styled yet: choose a look first.');
    return new Promise((resolve, reject) => {
      this.#p.canvas.toBlob((blob) => (blob ? resolve(blob) : reject(coded('INTERNAL', 'The image could not be encoded as PNG.'))), 'image/png');
    });
  }

  async #download() {
    let blob;
    try {
      blob = await this.toBlob();
    } catch (error) {
      this.#host.showError(error);
      return;
    }
    const slug = this.#describe().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    const a = el('a', { href: URL.createObjectURL(blob), download: `${this.#photoName}-${slug}.png` });
    a.hidden = true;
    this.#host.shadowRoot.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  /** Focus on the gallery's chosen tile (the one a keyboard user continues from). */
  focusGallery() {
    const input = this.#ui.tiles.querySelector('input[name="look"]:checked') ?? this.#ui.tiles.querySelector('input');
    input?.focus();
  }

  async simulateDeviceLoss() {
    return (await this.#engine.call('loseDevice')).lost;
  }

  simulateWorkerCrash() {
    this.#engine.crash();
  }
}

/** A getUserMedia failure as the element's coded error. */
function cameraError(error) {
  const name = error?.name ?? '';
  const why = `${name}: ${error?.message ?? error}`;
  if (name === 'NotAllowedError' || name === 'SecurityError') return coded('CAMERA_REFUSED', `camera permission was refused (${why})`);
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return coded('CAMERA_MISSING', `no camera was found (${why})`);
  if (name === 'NotReadableError' || name === 'AbortError') return coded('CAMERA_BUSY', `the camera could not be opened (${why})`);
  return coded('CAMERA_MISSING', `the camera could not be opened (${why})`);
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
