// <vitrine-styler>: the product-page element. `import 'vitrine/element'` defines it.
//
// This is the eager part, kept small (a page pays for it before the shopper wants any styling): attributes and
// properties, the poster and the space it reserves, the "try a look" button, the progress bar, errors, and the
// triggers that start the rest. The gallery, the controls and the worker client live in element-ui.js, imported
// with the engine (the wasm and the models, in element-worker.js) only when styling is wanted: on first
// interaction (reveal="interaction", the default), when the element nears the viewport (loading="lazy"), or at
// once (reveal="auto"). Nothing here touches `window` or `customElements` at import time outside a browser.

const TAG = 'vitrine-styler';
const REMEMBER_KEY = 'vitrine-styler:look';
const BOOLEAN = new Set(['preserve-color', 'remember']);
const NUMBER = { strength: 1, 'max-size': 1024 };
// The first of each is the default, and what any other value means. The background modes are Rust's
// (`Background`'s names): build.mjs holds this copy to them.
const CHOICE = { loading: ['eager', 'lazy'], reveal: ['interaction', 'auto'], background: ['auto', 'keep', 'white', 'transparent', 'paint'] };
const ATTRIBUTES = ['src', 'alt', 'looks', 'look', 'strength', 'preserve-color', 'loading', 'reveal', 'max-size', 'background', 'remember', 'video'];

/** Every text the element shows, in English; `element.strings = { ... }` or the JSON child's "strings" replace any. */
export const STRINGS = {
  reveal: 'Try a painted look',
  revealRemembered: 'Show it in your look',
  loading: 'Loading the painter…',
  gettingStyle: 'Getting the style painter…',
  gettingReader: 'Getting the style reader…',
  styling: 'Painting…',
  styled: 'Painted in {look}.',
  original: 'Original',
  gallery: 'Style',
  second: 'Mix with a second style',
  noSecond: 'No second style',
  mix: 'Mix',
  strength: 'Strength',
  keep: 'Keep true colours',
  compare: 'Before and after: drag or use the arrow keys to compare the photo with the painted look',
  ownStyle: 'Your own style',
  ownStyleHint: 'Choose, drop or paste any picture to paint in its style. It stays in this browser.',
  readingStyle: 'Reading the style of your picture…',
  removeStyle: 'Remove your style “{name}”',
  download: 'Download PNG',
  forget: 'Forget my look',
  forgotten: 'Your look is forgotten.',
  remembered: 'Your look from last time: {look}.',
  house: 'House',
  styledImage: 'The photo painted in {look}',
  photo: 'Photo',
  painted: 'Painted',
  onGpu: 'Painted with WebGPU on this device; your photo never leaves it.',
  onCpu: 'No WebGPU here: painting on this device’s processor; your photo never leaves it.',
  timing: '{ms} per image ({width}×{height}).',
  errorBadImage: 'That is not an image this browser can read. Try a JPEG, PNG or WebP file.',
  errorTooSmall: 'This photo is too small to paint.',
  errorTooLarge: 'This photo is too large to paint here.',
  errorLoad: 'The painted looks could not be loaded. Check the connection and try again.',
  errorStopped: 'The painter stopped unexpectedly. Try again.',
  errorOther: 'This look could not be painted.',
  liveCamera: 'Live camera',
  liveVideo: 'Play the video painted',
  liveStop: 'Stop live',
  snapshot: 'Save this frame',
  liveStarting: 'Starting the camera…',
  liveOn: 'Live in {look}: {fps} frames a second at {width}×{height}.',
  liveStopped: 'Live painting stopped.',
  errorCameraRefused: 'The camera is blocked for this page. Allow it in the browser’s address bar to paint live.',
  errorNoCamera: 'No camera was found on this device.',
  errorCameraBusy: 'The camera is in use by another app. Close it and try again.',
  errorCameraLost: 'The camera stopped. The photo stays; press Live camera to try again.',
  errorVideo: 'The product video could not be played.',
};

const camel = (name) => name.replace(/-(\w)/g, (_, c) => c.toUpperCase());

/** The last look on this device (`remember`), or null. */
export function rememberedLook() {
  try {
    const saved = JSON.parse(globalThis.localStorage?.getItem(REMEMBER_KEY) ?? 'null');
    return saved && typeof saved.look === 'string' ? saved : null;
  } catch {
    return null;
  }
}

export function rememberLook(value) {
  try {
    if (value) globalThis.localStorage?.setItem(REMEMBER_KEY, JSON.stringify(value));
    else globalThis.localStorage?.removeItem(REMEMBER_KEY);
  } catch {
    // Storage off (private mode, a policy): the look is simply not kept.
  }
}

const SHEET = `
:host { display: block; position: relative; font: var(--vitrine-font, 15px/1.5 system-ui, sans-serif);
  color: var(--vitrine-ink, #231d18); contain: layout; }
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.frame { position: relative; overflow: hidden; border-radius: var(--vitrine-radius, 10px);
  background: var(--vitrine-surface, #fff); touch-action: pan-y; aspect-ratio: var(--vitrine-ratio, auto); }
::slotted(img), ::slotted(picture) { display: block; width: 100%; height: auto; }
.frame.sized ::slotted(img) { height: 100%; object-fit: contain; }
canvas { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain;
  clip-path: inset(0 0 0 var(--pos, 50%)); }
canvas.whole { clip-path: none; }
canvas.cutout { background: repeating-conic-gradient(#e9e5e0 0 25%, #fff 0 50%) 0 0 / 16px 16px; }
.divider { position: absolute; top: 0; bottom: 0; left: var(--pos, 50%); width: 2px; margin-left: -1px;
  background: var(--vitrine-surface, #fff); box-shadow: 0 0 0 1px rgb(0 0 0 / .2); pointer-events: none; }
.tag { position: absolute; bottom: 8px; padding: 1px 8px; border-radius: 999px; font-size: 12px;
  background: rgb(0 0 0 / .62); color: #fff; pointer-events: none; }
.tag.before { left: 8px; } .tag.after { right: 8px; }
[hidden] { display: none !important; }
.progress { position: absolute; left: 0; right: 0; bottom: 0; height: 4px; background: rgb(0 0 0 / .12); }
.progress span { display: block; height: 100%; width: var(--done, 30%); background: var(--vitrine-accent, #9c4a26);
  transition: width .2s; }
.progress.unknown span { animation: slide 1.2s ease-in-out infinite alternate; }
@keyframes slide { from { margin-left: 0; } to { margin-left: 70%; } }
.error { position: absolute; left: 8px; right: 8px; top: 8px; margin: 0; padding: 6px 10px; border-radius: 6px;
  background: var(--vitrine-error-bg, #fff1ee); color: var(--vitrine-error, #8a1c0c); font-size: 14px; }
.bar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; margin-top: 10px; }
button, .button { font: inherit; cursor: pointer; border: 1px solid var(--vitrine-line, #cfc6ba);
  border-radius: var(--vitrine-radius, 10px); padding: 8px 14px; background: var(--vitrine-surface, #fff);
  color: var(--vitrine-ink, #231d18); min-height: 40px; }
button.primary { background: var(--vitrine-accent, #9c4a26); border-color: transparent;
  color: var(--vitrine-accent-ink, #fff); }
button:disabled { opacity: .55; cursor: default; }
:focus-visible, .focus { outline: 3px solid var(--vitrine-focus, #1f5fbf); outline-offset: 2px; }
.status { margin: 0; font-size: 13px; color: var(--vitrine-muted, #6f665d); flex: 1 1 10em; min-width: 0;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
@media (prefers-reduced-motion: reduce) { *, *::before, *::after { animation: none !important; transition: none !important; } }
`;

/** Styles for a shadow root as a constructed sheet, which a Content Security Policy's `style-src 'self'` allows
 * (an inline <style> would need 'unsafe-inline'); a <style> only where constructed sheets are missing. */
export function adoptStyles(root, css) {
  if (typeof CSSStyleSheet === 'function' && 'adoptedStyleSheets' in root && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  } else {
    const style = document.createElement('style');
    style.textContent = css;
    root.append(style);
  }
}

// Outside a browser (server-side rendering) there is no HTMLElement to extend; the class is then never defined.
const Base = /** @type {typeof HTMLElement} */ (typeof HTMLElement === 'undefined' ? class {} : HTMLElement);

export class VitrineStyler extends Base {
  static observedAttributes = ATTRIBUTES;

  #ui = null; // the controller from element-ui.js, once styling is wanted
  #starting = null;
  #observer = null;
  #strings = { ...STRINGS };
  #ownStrings = {}; // assigned through the property: they win over the JSON configuration's
  #internal = false; // set while the element writes its own attributes (a shopper's choice)
  /** 'auto' (default), 'webgpu' or 'cpu': what Styler.create gets; set before styling starts. */
  backend = 'auto';
  /** The last error shown ({ code, message }), or null. */
  error = null;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open', delegatesFocus: false });
    adoptStyles(root, SHEET);
    root.innerHTML = `<div class="frame" part="frame"><slot></slot>
<canvas part="canvas" hidden></canvas><div class="divider" part="divider" hidden></div>
<span class="tag before" part="tag" hidden></span><span class="tag after" part="tag" hidden></span>
<div class="progress unknown" part="progress" role="progressbar" hidden><span></span></div>
<p class="error" part="error" role="alert" hidden></p></div>
<div class="bar" part="bar"><button type="button" class="primary" part="reveal" data-id="reveal"><slot name="reveal"></slot></button>
<button type="button" part="forget" data-id="forget" hidden></button>
<p class="status" part="status" role="status" aria-live="polite"></p></div>
<div part="panel" class="panel" hidden></div>`;
    this.parts = Object.fromEntries(
      [...root.querySelectorAll('[part]')].map((/** @type {HTMLElement} */ el) => [el.dataset.id ?? el.getAttribute('part').split(' ')[0], el]),
    );
    this.parts.before = root.querySelector('.tag.before');
    this.parts.after = root.querySelector('.tag.after');
    this.parts.reveal.addEventListener('click', () => this.start());
    this.parts.forget.addEventListener('click', () => this.forgetLook());
  }

  connectedCallback() {
    const { strings } = this.#readConfig();
    if (strings) this.#strings = { ...STRINGS, ...strings, ...this.#ownStrings };
    this.#ensurePoster();
    this.#label();
    if (this['reveal'] === 'auto' && this['loading'] !== 'lazy') this.start();
    else if (this['loading'] === 'lazy' && !this.#ui && typeof IntersectionObserver === 'function') {
      this.#observer = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) this.start();
      }, { rootMargin: '200px' });
      this.#observer.observe(this);
    }
  }

  disconnectedCallback() {
    this.#observer?.disconnect();
    this.#observer = null;
    this.#ui?.disconnected();
  }

  attributeChangedCallback(name, old, value) {
    if (old === value) return;
    if (name === 'src' || name === 'alt') this.#ensurePoster();
    if (name === 'remember') this.#label();
    if (!this.#internal) this.#ui?.attributeChanged(name);
  }

  /** True once the engine has loaded (after the `load` event). */
  get loaded() {
    return this.#ui?.loaded ?? false;
  }

  /** True while a styling request waits or runs. */
  get busy() {
    return this.#ui?.busy ?? false;
  }

  /** The look of the styled image on show ('19', '3:0.50,12:0.50', a style's id), or null while the photo is. */
  get shownLook() {
    return this.#ui?.shownLook ?? null;
  }

  /** The looks in the gallery, in order: [{ look, name, kind: 'preset' | 'shop' | 'own' }]. */
  get gallery() {
    return this.#ui?.galleryList() ?? [];
  }

  /** Texts shown by the element (see STRINGS); assign an object to replace some. */
  get strings() {
    return this.#strings;
  }

  set strings(value) {
    this.#ownStrings = { ...this.#ownStrings, ...(value ?? {}) };
    this.#strings = { ...this.#strings, ...(value ?? {}) };
    this.#label();
    this.#ui?.relabel();
  }

  /** Starts the engine and shows the gallery (what a first interaction does). Resolves when it is ready. */
  start() {
    this.#observer?.disconnect();
    this.#starting ??= (async () => {
      // A keyboard user who pressed the button goes on in the gallery, not on a button that is gone.
      const hadFocus = this.shadowRoot.activeElement === this.parts.reveal;
      this.parts.reveal.hidden = true;
      this.showProgress({ stage: 'module' });
      try {
        const { Controller } = await import('./element-ui.js');
        this.#ui = new Controller(this);
        this.#ui.focusOnLoad = hadFocus;
        await this.#ui.ready;
      } catch (error) {
        this.showError(error);
        this.#starting = null;
        this.parts.reveal.hidden = false;
        throw error;
      }
    })();
    return this.#starting;
  }

  /** A PNG of the styled photo at the photo's own size: what the download gives. */
  async toBlob() {
    await this.start();
    return this.#ui.toBlob();
  }

  /** Paints the camera (`'camera'`) or the `video` attribute's clip (`'video'`) live over the photo; resolves once
   * the first frame is on show. A refused, missing or lost camera is shown as a message and the photo stays. */
  async startLive(kind = 'camera') {
    await this.start();
    return this.#ui.startLive(kind);
  }

  /** Ends live painting; the photo (and its painted look) shows again. */
  async stopLive() {
    return this.#ui?.stopLive();
  }

  /** A PNG of the live frame on show: what the snapshot button saves. */
  async snapshot() {
    await this.start();
    return this.#ui.snapshot();
  }

  /** The live session's figures ({ framesShown, framesDropped, fps, width, height, readbacks, latencyMs, path,
   * backend }, framesDropped counting the page's drops too), or null when nothing plays live. */
  get liveStats() {
    return this.#ui?.liveStats ?? null;
  }

  /** Testing aid: the camera ends as an unplugged one would. */
  simulateCameraLoss() {
    return this.#ui?.simulateCameraLoss() ?? false;
  }

  /** Forgets the shopper's remembered look on this device. */
  forgetLook() {
    rememberLook(null);
    this.parts.forget.hidden = true;
    this.#label();
    this.status(this.#strings.forgotten);
  }

  /** Testing aid: loses the GPU device, as a driver reset would; the next styling recovers. */
  async simulateDeviceLoss() {
    await this.start();
    return this.#ui.simulateDeviceLoss();
  }

  /** Testing aid: makes the worker die as a crash would; the element starts a new one. */
  async simulateWorkerCrash() {
    await this.start();
    return this.#ui.simulateWorkerCrash();
  }

  /** The element writes an attribute for a shopper's choice, without restyling for it twice. */
  setOwn(name, value) {
    this.#internal = true;
    try {
      if (value === null || value === false) this.removeAttribute(name);
      else this.setAttribute(name, value === true ? '' : String(value));
    } finally {
      this.#internal = false;
    }
  }

  /** The shop's configuration: the JSON child script `{ styles: [...], strings: {...} }`. */
  get config() {
    return this.#readConfig(); // read again: the script may have been parsed after the element was connected
  }

  #readConfig() {
    const script = this.querySelector(':scope > script[type="application/json"]');
    let config = {};
    if (script?.textContent.trim()) {
      try {
        config = JSON.parse(script.textContent);
      } catch (error) {
        console.warn(`<${TAG}>: the JSON configuration could not be read (${error.message}); it is left out`);
      }
    }
    return config;
  }

  /** The poster: the light-DOM <img> (or <picture>), made from `src` and `alt` when the page gave none. */
  /** @returns {HTMLImageElement | null} */
  get poster() {
    return this.querySelector(':scope > img, :scope > picture > img');
  }

  #ensurePoster() {
    if (!this.isConnected) return;
    let img = this.poster;
    const src = this.getAttribute('src');
    if (!img && src) {
      img = document.createElement('img');
      img.decoding = 'async';
      this.prepend(img);
    }
    if (!img) return;
    if (src && img.getAttribute('src') !== src && !img.closest('picture')) {
      img.src = src;
      if (img.dataset.vitrineSized !== undefined) img.removeAttribute('srcset');
    }
    if (this.hasAttribute('alt')) img.alt = this.getAttribute('alt');
    img.dataset.vitrineSized ??= '';
    // The poster's aspect ratio reserves the element's height, from its width/height attributes at once and from
    // the picture itself once it has loaded, so nothing below it moves.
    const ratio = () => {
      const w = img.naturalWidth || Number(img.getAttribute('width'));
      const h = img.naturalHeight || Number(img.getAttribute('height'));
      if (w > 0 && h > 0) {
        this.parts.frame.style.setProperty('--vitrine-ratio', `${w} / ${h}`);
        this.parts.frame.classList.add('sized');
      }
    };
    ratio();
    img.addEventListener('load', ratio);
  }

  #label() {
    const remembered = this['remember'] && rememberedLook();
    this.parts.forget.textContent = this.#strings.forget;
    this.parts.forget.hidden = !remembered;
    const slot = this.parts.reveal.querySelector('slot');
    slot.textContent = remembered ? this.#strings.revealRemembered : this.#strings.reveal;
  }

  status(text) {
    this.parts.status.textContent = text;
  }

  /** `{ stage, model?, loaded?, total? }`: the bar, and a `progress` event. */
  showProgress(progress) {
    const bar = this.parts.progress;
    if (progress === null) {
      bar.hidden = true;
      return;
    }
    bar.hidden = false;
    const fraction = progress.total ? Math.min(1, progress.loaded / progress.total) : null;
    bar.classList.toggle('unknown', fraction === null);
    bar.style.setProperty('--done', fraction === null ? '30%' : `${(fraction * 100).toFixed(1)}%`);
    if (fraction === null) bar.removeAttribute('aria-valuenow');
    else bar.setAttribute('aria-valuenow', String(Math.round(fraction * 100)));
    const s = this.#strings;
    bar.setAttribute('aria-label', progress.model === 'predictor' ? s.gettingReader : progress.model === 'transform' ? s.gettingStyle : s.loading);
    this.dispatchEvent(new CustomEvent('progress', { detail: { loaded: 0, total: 0, ...progress } }));
  }

  /** A short message in the element (the photo stays visible), and an `error` event with the code. */
  showError(error) {
    // A browser's own exceptions carry DOMException's numeric codes: the event's code is always a named one.
    const code = typeof error?.code === 'string' ? error.code : 'INTERNAL';
    const message = String(error?.message ?? error);
    const s = this.#strings;
    const short = { BAD_IMAGE: s.errorBadImage, IMAGE_TOO_SMALL: s.errorTooSmall, IMAGE_TOO_LARGE: s.errorTooLarge,
      CAMERA_REFUSED: s.errorCameraRefused, CAMERA_MISSING: s.errorNoCamera, CAMERA_BUSY: s.errorCameraBusy,
      CAMERA_LOST: s.errorCameraLost, VIDEO_FAILED: s.errorVideo, MODEL_FETCH: s.errorLoad, WASM_LOAD: s.errorLoad, WORKER_FAILED: s.errorStopped,
      INTERNAL: s.errorStopped, GPU_FAILED: s.errorStopped }[code] ?? s.errorOther;
    this.error = { code, message };
    const p = this.parts.error;
    p.textContent = short;
    p.title = message;
    p.hidden = false;
    this.status('');
    this.showProgress(null);
    console.warn(`<${TAG}>: ${code}: ${message}`);
    this.dispatchEvent(new CustomEvent('error', { detail: { code, message } }));
  }

  hideError() {
    this.error = null;
    this.parts.error.hidden = true;
  }
}

// Attributes reflect to camelCase properties.
for (const name of ATTRIBUTES) {
  const prop = camel(name);
  let get;
  let set;
  if (BOOLEAN.has(name)) {
    get = function () { return this.hasAttribute(name); };
    set = function (v) { this.toggleAttribute(name, Boolean(v)); };
  } else if (name in NUMBER) {
    get = function () {
      const n = Number.parseFloat(this.getAttribute(name) ?? '');
      return Number.isFinite(n) ? n : NUMBER[name];
    };
    set = function (v) { this.setAttribute(name, String(v)); };
  } else if (name in CHOICE) {
    get = function () {
      const v = (this.getAttribute(name) ?? '').toLowerCase();
      return CHOICE[name].includes(v) ? v : CHOICE[name][0];
    };
    set = function (v) { this.setAttribute(name, String(v)); };
  } else {
    get = function () { return this.getAttribute(name) ?? ''; };
    set = function (v) { this.setAttribute(name, String(v)); };
  }
  Object.defineProperty(VitrineStyler.prototype, prop, { get, set, configurable: true, enumerable: true });
}

if (typeof customElements !== 'undefined' && !customElements.get(TAG)) customElements.define(TAG, VitrineStyler);

export default VitrineStyler;
