#!/usr/bin/env node
// End-to-end tests of the demo page and its <vitrine-styler> in headless Chromium (playwright-core from
// www/node_modules, Debian's chromium).
//
//   node tests/e2e/run.mjs [--cli target/release/vitrine] [--root www] [--out out/e2e] [--only NAME]
//
// The page is served from 127.0.0.1 by www/serve.mjs. Styled pixels are read from the element's canvas and compared
// with the native CLI's output for the same photo and style (PSNR). The element is driven by mouse in one run and by
// keyboard only in another, on SwiftShader's WebGPU and on the CPU path; axe-core checks it; screenshots land in
// out/e2e/.

import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { launchChromium, psnrRgba } from '../support/browser.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const CLI = path.resolve(repo, opt('--cli', 'target/release/vitrine'));
const ROOT = path.resolve(repo, opt('--root', 'www'));
const OUT = path.resolve(repo, opt('--out', 'out/e2e'));
const ONLY = opt('--only', null);

const FIXTURE = path.join(repo, 'tests/e2e/fixtures/cup-96x64.png');
// A style picture no page ships: a crop of scikit-image's astronaut (tests/fixtures/arbitrary/).
const STYLE_PICTURE = path.join(repo, 'tests/fixtures/arbitrary/style_astronaut_300x220.png');
const AXE = path.join(repo, 'www/node_modules/axe-core/axe.min.js');
const TRANSFORM = 'arbitrary_transform.vitrine.safetensors';
const PREDICTOR = 'arbitrary_predict.vitrine.safetensors';
const PRESETS = 27; // the 26 presets and the house style from the element's JSON configuration
const STYLE = 19; // one preset for the pixel checks
const MIX = [3, 12]; // and one mix of two
const MIN_PSNR = 38;
// Before the shopper reaches for styling, the page may fetch at most this much of vitrine's code (gzipped).
const EAGER_BUDGET = 10_000;
// SwiftShader's WebGPU runs on the CPU at about 0.4 GFLOP/s: small images, long waits.
const STYLE_TIMEOUT = 240_000;

const { serve } = await import(path.join(repo, 'www/serve.mjs'));

// ---------------------------------------------------------------------------------------------------------

const results = [];
async function test(name, fn) {
  if (ONLY && !name.includes(ONLY)) return;
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n     ${String(err?.stack ?? err).split('\n').join('\n     ')}`);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const psnr = psnrRgba;
const fmtDb = (db) => (db === Infinity ? 'inf' : db.toFixed(2));

/** The CLI's output for the fixture, as a PNG file. */
async function reference(name, cliArgs) {
  const file = path.join(OUT, `cli_${name}.png`);
  execFileSync(CLI, ['stylize', FIXTURE, '-o', file, '--backend', 'cpu', ...cliArgs], { stdio: 'pipe' });
  return file;
}

/** A browser with a page on the demo, every request (with its response size) and console error recorded. */
async function open(server, { webgpu, query = '', viewport = { width: 1280, height: 800 }, context: given } = {}) {
  const browser = given ? null : await launchChromium({ webgpu });
  const context = given ?? await browser.newContext({ viewport, deviceScaleFactor: 1, acceptDownloads: true });
  const log = { requests: [], responses: [], errors: [] };
  const page = await context.newPage();
  page.on('request', (req) => log.requests.push(req.url()));
  page.on('response', (res) => log.responses.push(res));
  page.on('console', (msg) => {
    if (msg.type() === 'error') log.errors.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => log.errors.push(`pageerror: ${err.message}`));
  page.on('crash', () => log.errors.push('page crashed'));
  await page.goto(`${server.url}${query}`);
  await page.waitForFunction(() => customElements.get('vitrine-styler') && document.getElementById('styler').shadowRoot);
  return { browser, context, page, log, close: () => (browser ?? context).close() };
}

/** The element's engine started by a click on its button; resolves once it has loaded. */
async function revealByMouse(page) {
  await page.click('#styler >> [part="reveal"]');
  await loaded(page);
}

async function loaded(page) {
  await page.waitForFunction(() => document.getElementById('styler').loaded, null, { timeout: 120_000 });
  await page.waitForFunction(() => document.documentElement.dataset.backend);
}

/** The innermost focused element (through shadow roots), described for the keyboard helpers. */
function deepFocus(page) {
  return page.evaluate(() => {
    let el = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    if (!el) return null;
    return { part: el.getAttribute('part') ?? '', id: el.id, tag: el.tagName, type: el.type ?? '', value: el.value ?? '', name: el.name ?? '' };
  });
}

/** Tab (or Shift+Tab) until the focus is on what `wanted` accepts; fails after `limit` presses. */
async function tabTo(page, wanted, label, { back = false, limit = 80 } = {}) {
  for (let i = 0; i < limit; i++) {
    const focus = await deepFocus(page);
    if (focus && wanted(focus)) return focus;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`keyboard: ${label} could not be reached with Tab`);
}

async function decodeInPage(page, file) {
  const b64 = (await fs.readFile(file)).toString('base64');
  return decodeBytesInPage(page, b64);
}

function decodeBytesInPage(page, b64) {
  return page.evaluate(async (data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }), {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    const img = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    return { width: img.width, height: img.height, data: Array.from(img.data) };
  }, b64);
}

/** The styled image on show: the element's canvas. */
async function canvasPixels(page) {
  return page.evaluate(() => {
    const canvas = document.getElementById('styler').shadowRoot.querySelector('[part="canvas"]');
    const img = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    return { width: img.width, height: img.height, data: Array.from(img.data) };
  });
}

/** Wait until the element shows a finished styling of `look` (any look when null) with nothing waiting. */
async function settled(page, look = null, timeout = STYLE_TIMEOUT) {
  await page.waitForFunction(
    (want) => {
      const el = document.getElementById('styler');
      return !el.busy && el.shownLook !== null && (want === null || el.shownLook === want);
    },
    look,
    { timeout, polling: 100 },
  );
}

/** The photo the element styles, as its canvas is sized for it. */
async function photoIs(page, width, height, old = null) {
  await page.waitForFunction(
    ({ width, height, old }) => {
      const el = document.getElementById('styler');
      const c = el.shadowRoot.querySelector('[part="canvas"]');
      return c.width === width && c.height === height && (old === null || el.src !== old);
    },
    { width, height, old },
    { timeout: 30_000 },
  );
}

async function uploadFixture(page) {
  const old = await page.evaluate(() => document.getElementById('styler').src);
  await page.setInputFiles('#file', FIXTURE);
  await photoIs(page, 96, 64, old);
}

/** Hand the page the fixture as a shopper's drop or paste would (onto the page, not the gallery: a photo). */
async function giveFixture(page, how) {
  const b64 = (await fs.readFile(FIXTURE)).toString('base64');
  const old = await page.evaluate(() => document.getElementById('styler').src);
  await page.evaluate(({ data, how }) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], 'cup.png', { type: 'image/png' }));
    if (how === 'paste') {
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    } else {
      const target = document.getElementById('photos');
      for (const type of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
      }
    }
  }, { data: b64, how });
  await photoIs(page, 96, 64, old);
}

/** Hand the element a style picture: dropped onto its gallery, or pasted while a gallery tile has focus. */
async function giveStylePicture(page, how, file = STYLE_PICTURE) {
  const b64 = (await fs.readFile(file)).toString('base64');
  const before = await ownStyles(page);
  await page.evaluate(({ data, how, name }) => {
    const root = document.getElementById('styler').shadowRoot;
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type: 'image/png' }));
    if (how === 'paste') {
      const radio = root.querySelector('input[name="look"]:checked');
      radio.focus();
      radio.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, composed: true, cancelable: true }));
    } else {
      const target = root.querySelector('[part="tiles"]');
      for (const type of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, composed: true, cancelable: true }));
      }
    }
  }, { data: b64, how, name: path.basename(file) });
  await page.waitForFunction((n) => document.getElementById('styler').shadowRoot.querySelectorAll('.cell.own').length === n + 1, before, { timeout: STYLE_TIMEOUT });
}

const ownStyles = (page) => page.evaluate(() => document.getElementById('styler').shadowRoot.querySelectorAll('.cell.own').length);

/** The style vectors' model files the page has fetched so far. */
function vectorModelsFetched(log) {
  return [TRANSFORM, PREDICTOR].filter((name) => log.requests.some((url) => url.endsWith(`/${name}`)));
}

/** A look chosen with the mouse: a click on its thumbnail. */
async function chooseByMouse(page, look) {
  await page.click(`#styler >> input[name="look"][value="${look}"] + .thumb`);
  await settled(page, look);
}

function comparePixels(got, want, label) {
  assert(got.width === want.width && got.height === want.height,
    `${label}: the page shows ${got.width}x${got.height}, the CLI wrote ${want.width}x${want.height}`);
  const db = psnr(got.data, want.data);
  console.log(`     ${label}: PSNR ${fmtDb(db)} dB against the CLI (need ${MIN_PSNR})`);
  assert(db >= MIN_PSNR, `${label}: PSNR ${db.toFixed(2)} dB is below ${MIN_PSNR} dB`);
  return db;
}

function checkRequests(log, label) {
  const outside = log.requests.filter((url) => {
    if (url.startsWith('data:')) return false;
    const u = new URL(url.startsWith('blob:') ? url.slice(5) : url);
    return u.hostname !== '127.0.0.1';
  });
  console.log(`     ${label}: ${log.requests.length} requests, ${outside.length} outside 127.0.0.1`);
  assert(outside.length === 0, `${label}: requests left 127.0.0.1: ${outside.join(', ')}`);
}

function checkNoErrors(log, label) {
  assert(log.errors.length === 0, `${label}: ${log.errors.join(' | ')}`);
}

/** Before any interaction: only the poster among the element's images and at most EAGER_BUDGET of vitrine's code. */
async function checkEagerRequests(page, log, server, label) {
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(500);
  const pkg = `${server.url}pkg/`;
  const fromPkg = log.responses.filter((res) => res.url().startsWith(pkg));
  let gz = 0;
  const names = [];
  for (const res of fromPkg) {
    const body = await res.body();
    gz += gzipSync(body, { level: 9 }).length;
    names.push(`${res.url().slice(pkg.length)} (${(gzipSync(body, { level: 9 }).length / 1000).toFixed(1)} KB gz)`);
  }
  const poster = await page.evaluate(() => new URL(document.getElementById('styler').poster.currentSrc).href);
  const images = log.requests.filter((url) => /\.(png|jpe?g|webp)$/.test(url));
  console.log(`     ${label}: before interaction, vitrine's code: ${names.join(', ')} = ${(gz / 1000).toFixed(1)} KB gzipped (budget ${EAGER_BUDGET / 1000} KB); images: ${images.map((u) => u.slice(server.url.length)).join(', ')}`);
  assert(fromPkg.every((res) => res.url().endsWith('.js')), `${label}: fetched more than scripts from the package before interaction: ${names.join(', ')}`);
  assert(gz <= EAGER_BUDGET, `${label}: ${gz} bytes gzipped of vitrine's code before interaction (budget ${EAGER_BUDGET})`);
  assert(images.includes(poster), `${label}: the poster ${poster} was not fetched`);
  // The element's own images (thumbnails, style pictures) wait for the engine; the shop's page may show its own.
  const vitrineImages = images.filter((u) => u.startsWith(pkg) || u.includes('/thumbnails/') || u.includes('atelier-glaze'));
  assert(vitrineImages.length === 0, `${label}: the element fetched images before interaction: ${vitrineImages.join(', ')}`);
  assert(!log.requests.some((u) => /\.(wasm|safetensors)$|element-worker|element-ui/.test(u)), `${label}: the engine was fetched before interaction`);
}

/** axe-core over the page and the element's shadow tree: zero violations. */
async function checkAxe(page, label) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
  });
  console.log(`     ${label}: axe-core, ${violations.length} violations`);
  assert(violations.length === 0, `${label}: axe-core violations:\n       ${violations.join('\n       ')}`);
}

/** The page's main regions (the element's parts among them): present, visible, inside the page, not overlapping. */
async function checkLayout(page, label) {
  const boxes = await page.evaluate(() => {
    const root = document.getElementById('styler').shadowRoot;
    const regions = {
      header: () => document.querySelector('header.site'),
      preview: () => root.querySelector('[part="frame"]'),
      engine: () => root.querySelector('[part="engine"]'),
      photos: () => document.getElementById('photos'),
      title: () => document.getElementById('title'),
      price: () => document.querySelector('.price'),
      buy: () => document.querySelector('.buy'),
      gallery: () => root.querySelector('[part="gallery"]'),
      controls: () => root.querySelector('[part="controls"]'),
      actions: () => root.querySelector('[part="actions"]'),
    };
    const out = {};
    for (const [name, find] of Object.entries(regions)) {
      const el = find();
      if (!el) {
        out[name] = null;
        continue;
      }
      const r = el.getBoundingClientRect();
      out[name] = { x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height };
    }
    return { boxes: out, scrollWidth: document.documentElement.scrollWidth, width: innerWidth };
  });
  const problems = [];
  if (boxes.scrollWidth > boxes.width) problems.push(`the page scrolls sideways (${boxes.scrollWidth} > ${boxes.width} px)`);
  const entries = Object.entries(boxes.boxes);
  for (const [name, b] of entries) {
    if (!b) problems.push(`${name} is missing`);
    else if (b.w < 4 || b.h < 4) problems.push(`${name} is not visible (${b.w}x${b.h})`);
    else if (b.x < 0 || b.x + b.w > boxes.width + 0.5) problems.push(`${name} sticks out of the page`);
  }
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const [na, a] = entries[i];
      const [nb, b] = entries[j];
      if (!a || !b) continue;
      const overlap =
        Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x) > 0.5 &&
        Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y) > 0.5;
      if (overlap) problems.push(`${na} overlaps ${nb}`);
    }
  }
  assert(problems.length === 0, `${label}: ${problems.join('; ')}`);
}

/** Download by the element's button (clicked, or pressed with the keyboard); the file's pixels are the canvas's. */
async function checkDownload(page, press, label) {
  const [download] = await Promise.all([page.waitForEvent('download'), press()]);
  const saved = path.join(OUT, `download-${label}.png`);
  await download.saveAs(saved);
  const bytes = await fs.readFile(saved);
  assert(bytes.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])), 'the download is not a PNG');
  assert(download.suggestedFilename().endsWith('.png'), `download name ${download.suggestedFilename()}`);
  const shown = await canvasPixels(page);
  const file = await decodeBytesInPage(page, bytes.toString('base64'));
  const db = psnr(file.data, shown.data);
  assert(file.width === shown.width && file.height === shown.height && db === Infinity,
    `${label}: the downloaded PNG (${file.width}x${file.height}) is not the shown image (${fmtDb(db)} dB)`);
  // toBlob() gives the same bytes' pixels.
  const blob = await page.evaluate(async () => {
    const b = await document.getElementById('styler').toBlob();
    const bytes = new Uint8Array(await b.arrayBuffer());
    let s = '';
    for (const x of bytes) s += String.fromCharCode(x);
    return { type: b.type, b64: btoa(s) };
  });
  const fromBlob = await decodeBytesInPage(page, blob.b64);
  assert(blob.type === 'image/png' && psnr(fromBlob.data, shown.data) === Infinity, `${label}: toBlob() is not the shown image`);
  console.log(`     ${label}: download ${download.suggestedFilename()} and toBlob() decode to the shown ${shown.width}x${shown.height} pixels exactly`);
}

// ---------------------------------------------------------------------------------------------------------

await fs.mkdir(OUT, { recursive: true });
const server = await serve({ root: ROOT, port: 0 });
console.log(`serving ${path.relative(repo, ROOT)} at ${server.url}`);

const refStyle = await reference(`style${STYLE}`, ['--style', String(STYLE)]);
const refMix = await reference(`mix${MIX.join('_')}`, ['--style', `${MIX[0]}:0.5,${MIX[1]}:0.5`]);
const refFinish = await reference(`style${STYLE}_s60_keep`, ['--style', String(STYLE), '--strength', '0.6', '--preserve-color']);

// Style vectors: the house style file the element's configuration names, and a picture's style made by the CLI.
const HOUSE_STYLE = path.join(ROOT, 'samples/brand-style.json');
const refHouse = await reference('house', ['--style-vector', HOUSE_STYLE]);
const cliStyle = path.join(OUT, 'cli_own_style.json');
execFileSync(CLI, ['style', STYLE_PICTURE, '-o', cliStyle, '--backend', 'cpu'], { stdio: 'pipe' });
const refOwn = await reference('own_style', ['--style-vector', cliStyle]);
const refOwnHalf = await reference('own_style_s50', ['--style-vector', cliStyle, '--strength', '0.5']);

let gpuPixels = null;

for (const webgpu of [true, false]) {
  const where = webgpu ? 'webgpu' : 'cpu';
  await test(`${webgpu ? 'WebGPU (SwiftShader)' : 'no WebGPU (the CPU path)'}, by mouse: only the poster and the small script before interaction; one style and a mix (set by the page) match the CLI; ${webgpu ? 'a lost GPU recovers; ' : ''}download`, async () => {
  const { page, log, close } = await open(server, webgpu ? { webgpu: true, query: '?backend=webgpu' } : { webgpu: false });
  try {
    await checkEagerRequests(page, log, server, where);
    await revealByMouse(page);
    assert((await page.getAttribute('html', 'data-backend')) === where, `the element did not start on ${where}`);
    // `looks` picks the gallery's looks and their order (a shop style's id among the presets).
    const order = await page.evaluate(() => {
      const el = document.getElementById('styler');
      el.looks = '4,atelier-glaze,0';
      const chosen = el.gallery.map((g) => g.look).join();
      el.removeAttribute('looks');
      return { chosen, all: el.gallery.length };
    });
    assert(order.chosen === '4,atelier-glaze,0' && order.all === PRESETS, `looks="4,atelier-glaze,0" gave ${JSON.stringify(order)}`);
    await uploadFixture(page);
    await chooseByMouse(page, String(STYLE));
    const pixels = await canvasPixels(page);
    if (webgpu) gpuPixels = pixels;
    comparePixels(pixels, await decodeInPage(page, refStyle), `${where} style ${STYLE}`);
    const engine = await page.textContent('#styler >> [part="engine"]');
    console.log(`     the element says: ${engine}`);
    assert(webgpu ? /WebGPU/.test(engine) : /processor/.test(engine), `the element does not say what it styles on: "${engine}"`);

    // The GPU device is lost (as a driver reset would); the next styling opens it again.
    if (webgpu) assert(await page.evaluate(() => document.getElementById('styler').simulateDeviceLoss()), 'no GPU device to lose');
    // A look set by the page, through the attribute: one mix, one run of the network.
    await page.evaluate((look) => { document.getElementById('styler').look = look; }, `${MIX[0]}:0.5,${MIX[1]}:0.5`);
    await settled(page, `${MIX[0]}:0.50,${MIX[1]}:0.50`);
    comparePixels(await canvasPixels(page), await decodeInPage(page, refMix), `${where} mix ${MIX.join('+')}${webgpu ? ' after a lost device' : ''}`);
    assert((await page.getAttribute('html', 'data-backend')) === where, 'the backend changed');
    assert(await page.isHidden('#styler >> [part="error"]'), 'an error is shown');

    await checkDownload(page, () => page.click('#styler >> [part="download"]'), `mouse-${where}`);
    checkRequests(log, where);
    checkNoErrors(log, where);
  } finally {
    await close();
  }
  });
}

for (const webgpu of [false, true]) {
  const where = webgpu ? 'webgpu' : 'cpu';
  await test(`${webgpu ? 'WebGPU (SwiftShader)' : 'no WebGPU (the CPU path)'}, keyboard only: the same image; strength, true colours, a mix, before/after, download, bad input, a worker crash; axe-core`, async () => {
  const { page, log, close } = await open(server, webgpu ? { webgpu: true, query: '?backend=webgpu' } : { webgpu: false });
  try {
    await checkEagerRequests(page, log, server, where);
    await checkAxe(page, `${where}, the poster before interaction`);
    // Tab to the element's button and press it.
    await tabTo(page, (f) => f.part === 'reveal', 'the reveal button');
    await page.keyboard.press('Enter');
    await loaded(page);
    assert((await page.getAttribute('html', 'data-backend')) === where, `the element did not start on ${where}`);
    const engine = await page.textContent('#styler >> [part="engine"]');
    console.log(`     the element says: ${engine}`);
    const says = webgpu ? /WebGPU/.test(engine) : /processor/.test(engine);
    assert(says && /never leaves/.test(engine), `the element does not say what it styles on: "${engine}"`);
    const focus = await deepFocus(page);
    assert(focus?.name === 'look', `after the button the focus is not in the gallery: ${JSON.stringify(focus)}`);

    await giveFixture(page, 'drop');
    // The gallery is a radio group: the arrow keys move and choose. From the photo itself ("Original"), Left wraps
    // to the last preset, then on down to STYLE; every step asks for a look and only the latest is painted.
    const shown = [];
    const events = [];
    await page.exposeFunction('__stylized', (look, cached) => {
      shown.push(look);
      events.push({ look, cached });
    });
    await page.evaluate(() => document.getElementById('styler').addEventListener('stylize', (e) => window.__stylized(e.detail.look, e.detail.cached)));
    for (let i = 25; i >= STYLE; i--) await page.keyboard.press('ArrowLeft');
    await settled(page, String(STYLE));
    console.log(`     ${26 - STYLE} arrow presses through the gallery painted ${shown.length} look(s): ${shown.join(', ')}`);
    assert(shown.at(-1) === String(STYLE) && shown.length < 26 - STYLE, `every look on the way was painted: ${shown.join(', ')}`);
    const cpu = await canvasPixels(page);
    comparePixels(cpu, await decodeInPage(page, refStyle), `${where} style ${STYLE}`);
    if (gpuPixels && !webgpu) {
      const db = psnr(cpu.data, gpuPixels.data);
      console.log(`     cpu vs webgpu in the browser: PSNR ${fmtDb(db)} dB`);
      assert(db >= MIN_PSNR, `the CPU and WebGPU elements differ: ${db.toFixed(2)} dB`);
    }

    // Strength and keep-true-colours come from the cached full-strength output: no second run of the network.
    await tabTo(page, (f) => f.part === 'strength', 'the strength slider');
    for (let i = 0; i < 40; i++) await page.keyboard.press('ArrowLeft');
    assert((await page.inputValue('#styler >> [part="strength"]')) === '60', 'arrow keys did not move the strength slider');
    await page.keyboard.press('PageDown');
    assert((await page.inputValue('#styler >> [part="strength"]')) === '50', 'PageDown did not move the strength slider by 10');
    await page.keyboard.press('PageUp');
    await tabTo(page, (f) => f.part === 'keep', 'keep true colours');
    await page.keyboard.press('Space');
    await settled(page, String(STYLE), 20_000);
    assert(await page.evaluate(() => document.getElementById('styler').preserveColor), 'keep-colours did not reach the attribute');
    const reblends = events.slice(events.findIndex((e) => e.look === String(STYLE)) + 1);
    assert(reblends.length > 0 && reblends.every((e) => e.cached), `strength or keep-colours ran the network again: ${JSON.stringify(reblends)}`);
    console.log(`     strength and keep-colours: ${reblends.length} re-blends of the cached output, no network run`);
    comparePixels(await canvasPixels(page), await decodeInPage(page, refFinish), `${where} style ${STYLE} at 60% with true colours`);

    // Strength 0 is the photo itself.
    await tabTo(page, (f) => f.part === 'strength', 'the strength slider', { back: true });
    await page.keyboard.press('Home');
    await tabTo(page, (f) => f.part === 'keep', 'keep true colours');
    await page.keyboard.press('Space');
    await settled(page, String(STYLE), 20_000);
    const photo = await decodeInPage(page, FIXTURE);
    const zero = psnr((await canvasPixels(page)).data, photo.data);
    assert(zero >= 50, `strength 0 should show the photo, PSNR ${zero.toFixed(2)} dB`);
    await tabTo(page, (f) => f.part === 'strength', 'the strength slider', { back: true });
    await page.keyboard.press('End');

    // A mix of two styles, chosen by keyboard: the first style in the gallery, the second from the list.
    await tabTo(page, (f) => f.name === 'look', 'the gallery', { back: true });
    for (let i = STYLE; i > MIX[0]; i--) await page.keyboard.press('ArrowLeft');
    await settled(page, String(MIX[0]));
    await tabTo(page, (f) => f.part === 'second', 'the second style');
    for (let i = 0; i <= MIX[1]; i++) await page.keyboard.press('ArrowDown');
    const mixLook = `${MIX[0]}:0.50,${MIX[1]}:0.50`;
    await settled(page, mixLook);
    assert((await page.inputValue('#styler >> [part="mix"]')) === '50', 'the mix should start at 50%');
    assert((await page.evaluate(() => document.getElementById('styler').look)) === mixLook, 'the look attribute does not follow the mix');
    comparePixels(await canvasPixels(page), await decodeInPage(page, refMix), `${where} mix ${MIX.join('+')} 50/50`);

    // The before/after slider moves with the keyboard.
    await tabTo(page, (f) => f.part === 'compare', 'the before/after slider', { back: true });
    await page.keyboard.press('ArrowLeft');
    const pos = await page.evaluate(() => document.getElementById('styler').shadowRoot.querySelector('[part="frame"]').style.getPropertyValue('--pos'));
    assert(pos === '49%', `the before/after slider did not follow the arrow key (${pos})`);

    // The download, by keyboard, is a PNG of the pixels shown.
    await tabTo(page, (f) => f.part === 'download', 'the download button');
    await checkDownload(page, () => page.keyboard.press('Enter'), `keyboard-${where}`);
    await checkAxe(page, `${where}, styled`);

    // A pasted photo replaces the dropped one and is painted in the same look.
    await giveFixture(page, 'paste');
    await settled(page, mixLook);
    comparePixels(await canvasPixels(page), await decodeInPage(page, refMix), `${where} pasted photo, same mix`);

    // The worker dies (as a crash would) during a styling call: a new one takes the photo and paints on.
    const wasmLoads = () => log.requests.filter((u) => u.endsWith('.wasm')).length;
    const wasmBefore = wasmLoads();
    await page.evaluate(() => {
      const el = document.getElementById('styler');
      el.look = '7';
      setTimeout(() => el.simulateWorkerCrash(), 90);
    });
    await page.waitForTimeout(200);
    await page.evaluate(() => { document.getElementById('styler').look = String(19); });
    await settled(page, String(STYLE));
    comparePixels(await canvasPixels(page), await decodeInPage(page, refStyle), `${where} style ${STYLE} after the worker died`);
    assert(await page.isHidden('#styler >> [part="error"]'), 'an error is shown after the worker was replaced');
    assert(wasmLoads() === wasmBefore + 1, `no new worker started after the crash (${wasmLoads() - wasmBefore} wasm loads)`);

    // Bad input is explained in the element, and the photo stays: a file that is no image, a photo too small.
    await page.evaluate(() => {
      window.__errorEvents = [];
      document.getElementById('styler').addEventListener('error', (e) => window.__errorEvents.push(e.detail?.code));
    });
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') });
    await page.waitForSelector('#styler >> [part="error"]:not([hidden])');
    const errorEvents = await page.evaluate(() => window.__errorEvents);
    assert(errorEvents.includes('BAD_IMAGE'), `no error event with detail.code BAD_IMAGE: ${JSON.stringify(errorEvents)}`);
    const notImage = await page.textContent('#styler >> [part="error"]');
    assert(/not an image/.test(notImage), `unexpected message for a text file: "${notImage}"`);
    assert((await page.evaluate(() => document.getElementById('styler').error?.code)) === 'BAD_IMAGE', 'the error code');
    const still = await page.evaluate(() => {
      const c = document.getElementById('styler').shadowRoot.querySelector('[part="canvas"]');
      const r = c.getBoundingClientRect();
      return { hidden: c.hidden, w: r.width, h: r.height };
    });
    const kept = psnr((await canvasPixels(page)).data, (await decodeInPage(page, FIXTURE)).data);
    console.log(`     a text file as the photo: "${notImage}"; the last photo stays on show (${fmtDb(kept)} dB against it)`);
    assert(!still.hidden && still.w > 50 && still.h > 30 && kept >= 50, `the photo is not visible with the error: ${JSON.stringify(still)}, ${fmtDb(kept)} dB`);
    await page.evaluate(async () => {
      const canvas = new OffscreenCanvas(2, 2);
      canvas.getContext('2d').fillRect(0, 0, 2, 2);
      const transfer = new DataTransfer();
      transfer.items.add(new File([await canvas.convertToBlob()], 'dot.png', { type: 'image/png' }));
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    });
    await page.waitForFunction(() => document.getElementById('styler').error?.code === 'IMAGE_TOO_SMALL', null, { timeout: 30_000 });
    console.log(`     a 2x2 photo: "${await page.textContent('#styler >> [part="error"]')}"`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(OUT, `error-${where}-1280x800.png`) });

    checkRequests(log, where);
    checkNoErrors(log, where);
  } finally {
    await close();
  }
  });
}

await test('background: the studio sample (a mug on white) under max-size 256 keeps its backdrop (auto), makes it white, cuts it out or paints it; the strength slider keeps it; the stylize event reports it', async () => {
  const { page, log, close } = await open(server, { webgpu: false, query: '?background=white&max=256' });
  try {
    await page.evaluate(() => {
      window.__backgrounds = [];
      document.getElementById('styler').addEventListener('stylize', (e) => window.__backgrounds.push({ ...e.detail.background, cached: e.detail.cached }));
    });
    assert((await page.evaluate(() => document.getElementById('styler').background)) === 'white', 'the page did not set background="white"');
    await revealByMouse(page);
    const old = await page.evaluate(() => document.getElementById('styler').src);
    await page.click('label.photo-tile:has(input[value="samples/studio-mug.jpg"])');
    await photoIs(page, 640, 640, old);
    await chooseByMouse(page, String(STYLE));
    const photo = await decodeInPage(page, path.join(ROOT, 'samples/studio-mug.jpg'));
    // A ring along the frame's edges: backdrop, far from the mug and its shadow.
    const ring = (img) => {
      let moved = 0;
      let white = true;
      let clear = true;
      let opaque = true;
      for (let y = 0; y < img.height; y++) {
        for (let x = 0; x < img.width; x++) {
          if (!(x < 16 || y < 16 || x >= img.width - 16 || y >= img.height - 16)) continue;
          const i = (y * img.width + x) * 4;
          for (let c = 0; c < 3; c++) {
            moved = Math.max(moved, Math.abs(img.data[i + c] - photo.data[i + c]));
            white &&= img.data[i + c] === 255;
          }
          clear &&= img.data[i + 3] === 0;
          opaque &&= img.data[i + 3] === 255;
        }
      }
      return { moved, white, clear, opaque };
    };
    const shown = async (label) => {
      const far = ring(await canvasPixels(page));
      const report = await page.evaluate(() => window.__backgrounds.at(-1));
      const cutout = await page.evaluate(() => document.getElementById('styler').shadowRoot.querySelector('[part="canvas"]').classList.contains('cutout'));
      await page.locator('#styler >> [part="frame"]').screenshot({ path: path.join(OUT, `background-${label}.png`) });
      console.log(`     background ${label}: far backdrop moved ${far.moved}, white ${far.white}, clear ${far.clear}; ${JSON.stringify(report)}`);
      return { far, report, cutout };
    };
    const restyle = async (background) => {
      const count = await page.evaluate(() => window.__backgrounds.length);
      await page.evaluate((b) => { document.getElementById('styler').background = b; }, background);
      await page.waitForFunction((n) => window.__backgrounds.length > n, count, { timeout: STYLE_TIMEOUT });
      await settled(page, String(STYLE));
    };

    let got = await shown('white');
    assert(got.far.white && got.far.opaque && got.report?.applied === 'white' && got.report.mode === 'white' && got.report.product > 0,
      `background="white": ${JSON.stringify(got)}`);
    // The mug's soft shadow: grey pixels of the photo (the mug is blue) that white made pure white. auto keeps them.
    const whitened = await canvasPixels(page);
    const shadow = [];
    for (let i = 0; i < photo.data.length; i += 4) {
      const [r, g, b] = photo.data.slice(i, i + 3);
      const grey = Math.max(r, g, b) - Math.min(r, g, b) <= 6 && r < 230;
      if (grey && whitened.data[i] === 255 && whitened.data[i + 1] === 255 && whitened.data[i + 2] === 255) shadow.push(i);
    }
    console.log(`     the shadow: ${shadow.length} grey pixels of the photo made white`);
    assert(shadow.length >= 200, `background="white" whitened only ${shadow.length} pixels of the shadow`);
    // The strength slider re-blends the cached output: the backdrop stays white.
    await page.evaluate(() => { document.getElementById('styler').strength = 0.5; });
    await page.waitForFunction(() => window.__backgrounds.length > 1 && window.__backgrounds.at(-1).cached, null, { timeout: 30_000 });
    await settled(page, String(STYLE));
    got = await shown('white-strength-50');
    assert(got.far.white && got.report?.applied === 'white', `white at strength 0.5: ${JSON.stringify(got)}`);
    await page.evaluate(() => { document.getElementById('styler').strength = 1; });
    await settled(page, String(STYLE));

    await restyle('transparent');
    got = await shown('transparent');
    assert(got.far.clear && got.cutout && got.report?.applied === 'transparent', `background="transparent": ${JSON.stringify(got)}`);
    await restyle('auto');
    got = await shown('auto');
    assert(got.far.moved <= 2 && got.far.opaque && !got.cutout && got.report?.applied === 'kept' && got.report.reason === null,
      `background="auto": ${JSON.stringify(got)}`);
    const kept = await canvasPixels(page);
    const shadowMoved = Math.max(...shadow.flatMap((i) => [0, 1, 2].map((c) => Math.abs(kept.data[i + c] - photo.data[i + c]))));
    assert(shadowMoved <= 2, `background="auto" moved the shadow by ${shadowMoved} levels`);
    await restyle('paint');
    got = await shown('paint');
    assert(got.far.moved >= 40 && got.report?.applied === 'painted' && got.report.product === null, `background="paint": ${JSON.stringify(got)}`);
    // Any other value reads as the default, as for the element's other enumerated attributes.
    assert((await page.evaluate(() => { const el = document.getElementById('styler'); el.setAttribute('background', 'grey'); return el.background; })) === 'auto',
      'background="grey" does not read as auto');
    await settled(page, String(STYLE));
    checkRequests(log, 'background');
    checkNoErrors(log, 'background');
  } finally {
    await close();
  }
});

await test('your own style: a dropped picture paints the photo, strength blends vectors, kept after a reload, removable; the house style', async () => {
  const { page, log, close, context } = await open(server, { webgpu: false });
  try {
    await revealByMouse(page);
    // The house style from the element's configuration sits in the gallery before any style model is fetched.
    const house = await page.textContent('#styler >> .cell.shop .name');
    assert(house === 'Atelier glaze', `the house style is called "${house}"`);
    await uploadFixture(page);
    assert(vectorModelsFetched(log).length === 0, 'a style model was fetched before any style vector was used');

    // The house style at full strength needs the transformer only.
    await chooseByMouse(page, 'atelier-glaze');
    const photo = await decodeInPage(page, FIXTURE);
    const brand = await canvasPixels(page);
    const brandVsPhoto = psnr(brand.data, photo.data);
    console.log(`     house style: ${brandVsPhoto.toFixed(2)} dB against the photo; fetched ${vectorModelsFetched(log).join(', ')}`);
    assert(brandVsPhoto < 25, 'the house style did not change the photo');
    comparePixels(brand, await decodeInPage(page, refHouse), 'house style (the configured style file)');
    assert(vectorModelsFetched(log).join() === TRANSFORM, 'the house style at full strength should fetch the transformer only');

    // A picture dropped on the gallery becomes a style, chosen and painted at once; the photo stays.
    const photoSrc = await page.evaluate(() => document.getElementById('styler').src);
    const dropped = Date.now();
    await giveStylePicture(page, 'drop');
    await page.waitForFunction(() => document.getElementById('styler').shownLook?.startsWith('own-'), null, { timeout: STYLE_TIMEOUT });
    await settled(page);
    console.log(`     a dropped style picture painted the photo in ${((Date.now() - dropped) / 1000).toFixed(1)} s (the style reader's download included)`);
    assert((await page.evaluate(() => document.getElementById('styler').src)) === photoSrc, 'the dropped style picture replaced the photo');
    const own = await canvasPixels(page);
    const tile = await page.evaluate(() => {
      const cell = document.getElementById('styler').shadowRoot.querySelector('.cell.own');
      return { id: cell.dataset.look, checked: cell.querySelector('input').checked, name: cell.querySelector('.name').textContent, thumb: cell.querySelector('img').src.slice(0, 23) };
    });
    const ownId = tile.id;
    assert(tile.checked && tile.thumb === 'data:image/jpeg;base64,', `the new style tile: ${JSON.stringify(tile)}`);
    const ownVsBrand = psnr(own.data, brand.data);
    console.log(`     own style "${tile.name}": ${psnr(own.data, photo.data).toFixed(2)} dB against the photo, ${ownVsBrand.toFixed(2)} dB against the house style`);
    assert(psnr(own.data, photo.data) < 25 && ownVsBrand < 30, 'the own style did not change the preview');
    // The style kept in IndexedDB is the CLI's `vitrine style` of the same picture, and paints as the CLI does.
    const saved = await page.evaluate((id) => new Promise((resolve, reject) => {
      const open = indexedDB.open('vitrine-styler');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const get = open.result.transaction('styles').objectStore('styles').get(id);
        get.onsuccess = () => resolve(get.result);
        get.onerror = () => reject(get.error);
      };
    }), ownId);
    const cli = JSON.parse(await fs.readFile(cliStyle, 'utf8'));
    const worst = cli.vector.reduce((m, v, i) => Math.max(m, Math.abs(v - saved.file.vector[i])), 0);
    console.log(`     the saved style file against \`vitrine style\`: version ${saved.file.version}, ${saved.file.vector.length} numbers, max abs difference ${worst.toExponential(1)}`);
    assert(saved.file.format === 'vitrine-style' && saved.file.version === 1 && saved.file.vector.length === 100 && worst <= 1e-4,
      `the saved style differs from the CLI's (max abs ${worst})`);
    comparePixels(own, await decodeInPage(page, refOwn), 'own style');

    // Strength paints again with the blended vector (Magenta's way); back at 100% the painting is the same as before.
    await page.focus('#styler >> [part="strength"]');
    for (let i = 0; i < 50; i++) await page.keyboard.press('ArrowLeft');
    await page.waitForFunction(() => document.getElementById('styler').busy, null, { timeout: 5_000 }).catch(() => {});
    await settled(page);
    const half = await canvasPixels(page);
    const halfVsFull = psnr(half.data, own.data);
    console.log(`     strength 50%: ${halfVsFull.toFixed(2)} dB against 100%`);
    assert((await page.inputValue('#styler >> [part="strength"]')) === '50' && halfVsFull < 40, 'strength 50% did not change the painting');
    comparePixels(half, await decodeInPage(page, refOwnHalf), 'own style at strength 50% (blended with the photo\'s own vector)');
    await page.keyboard.press('End');
    await page.waitForFunction(() => document.getElementById('styler').strength === 1);
    await settled(page);
    assert(psnr((await canvasPixels(page)).data, own.data) === Infinity, 'back at 100% the painting differs');
    assert(await page.isDisabled('#styler >> [part="second"]'), 'the second-style mix should be off for a style vector');

    // A style pasted while the gallery has focus; a file that is no picture is explained.
    await giveStylePicture(page, 'paste', FIXTURE);
    await page.waitForFunction(() => {
      const cells = document.getElementById('styler').shadowRoot.querySelectorAll('.cell.own');
      return cells.length === 2 && cells[1].querySelector('input').checked;
    });
    await settled(page);
    await page.setInputFiles('#styler >> .add input[type="file"]', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });
    await page.waitForSelector('#styler >> [part="error"]:not([hidden])');
    assert(/not an image/.test(await page.textContent('#styler >> [part="error"]')), 'a text file as a style is not explained');
    await page.screenshot({ path: path.join(OUT, 'own-style-1280x800.png') });

    // After a reload the styles are still there (IndexedDB), and the first paints the same picture again.
    await page.reload();
    await revealByMouse(page);
    assert((await ownStyles(page)) === 2, 'the own styles did not survive a reload');
    await uploadFixture(page);
    await chooseByMouse(page, ownId);
    const again = psnr((await canvasPixels(page)).data, own.data);
    console.log(`     after a reload the kept style paints the same photo: ${again === Infinity ? 'identical' : `${again.toFixed(2)} dB`}`);
    assert(again >= 50, `the kept style paints differently after a reload (${again.toFixed(2)} dB)`);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('#styler >> [part="gallery"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUT, 'own-style-390x844.png') });
    await checkLayout(page, 'own style at 390x844');

    // Removing a style (by its button, from the keyboard) forgets it, also after a reload.
    await page.focus(`#styler >> .cell.own[data-look="${ownId}"] .remove`);
    await page.keyboard.press('Enter');
    await page.waitForFunction((id) => !document.getElementById('styler').shadowRoot.querySelector(`.cell[data-look="${id}"]`), ownId);
    await page.waitForFunction(() => document.getElementById('styler').shownLook === null && !document.getElementById('styler').busy);
    await page.reload();
    await revealByMouse(page);
    const left = await ownStyles(page);
    assert(left === 1, `after removing one of two styles and a reload, ${left} remain`);

    checkRequests(log, 'own style');
    checkNoErrors(log, 'own style');
    void context;
  } finally {
    await close();
  }
});

await test('remember: the last look is offered first on the next product page, kept on the device only, and forgotten on request', async () => {
  const browser = await launchChromium({ webgpu: false });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const first = await open(server, { context });
    await revealByMouse(first.page);
    await chooseByMouse(first.page, '5');
    await first.page.evaluate(() => { document.getElementById('styler').shadowRoot.querySelector('[part="strength"]').focus(); });
    for (let i = 0; i < 20; i++) await first.page.keyboard.press('ArrowLeft');
    await first.page.waitForFunction(() => document.getElementById('styler').strength === 0.8);
    await settled(first.page, '5');
    await first.page.close();

    // The next page: the button offers the shopper's look, which is applied first over the page's own.
    const next = await open(server, { context });
    const button = (await next.page.textContent('#styler >> [part="reveal"]')).trim();
    assert(/your look/i.test(button), `the button does not offer the remembered look: "${button}"`);
    assert(await next.page.isVisible('#styler >> [part="forget"]'), 'no visible control to forget the look');
    const changes = [];
    await next.page.exposeFunction('__lookChange', (d) => changes.push(d));
    await next.page.evaluate(() => document.getElementById('styler').addEventListener('look-change', (e) => window.__lookChange(e.detail)));
    await revealByMouse(next.page);
    await settled(next.page, '5');
    const state = await next.page.evaluate(() => ({ look: document.getElementById('styler').look, strength: document.getElementById('styler').strength }));
    assert(state.look === '5' && state.strength === 0.8, `the remembered look was not applied: ${JSON.stringify(state)}`);
    assert(changes.some((d) => d.source === 'remembered' && d.look === '5' && d.style === 5), `no look-change for the remembered look: ${JSON.stringify(changes)}`);
    // Never sent anywhere: no request after the first page carries it (every request is a GET of a static file).
    const carried = next.log.requests.filter((url) => /look|strength|[?&]/.test(new URL(url).search + new URL(url).pathname.replace(/\/pkg\/.*/, '')));
    assert(carried.length === 0, `requests carry the look: ${carried.join(', ')}`);

    // Forgotten: the control goes, and the next page offers the plain button and shows the photo.
    await next.page.click('#styler >> [part="forget"]');
    assert(await next.page.isHidden('#styler >> [part="forget"]'), 'the forget control stayed');
    assert((await next.page.evaluate(() => localStorage.getItem('vitrine-styler:look'))) === null, 'the look is still stored');
    await next.page.reload();
    await next.page.waitForFunction(() => customElements.get('vitrine-styler'));
    assert(!/your look/i.test(await next.page.textContent('#styler >> [part="reveal"]')), 'the forgotten look is still offered');
    assert(await next.page.isHidden('#styler >> [part="forget"]'), 'the forget control is shown with nothing to forget');
    checkRequests(next.log, 'remember');
    checkNoErrors(first.log, 'remember, first page');
    checkNoErrors(next.log, 'remember, next page');
  } finally {
    await browser.close();
  }
});

await test('loading="lazy" starts the engine only near the viewport, reveal="auto" at once; progress events and bar, strings, reduced motion, a second import', async () => {
  const { page, log, close } = await open(server, { webgpu: false });
  try {
    // A second copy of the module (another URL, as two bundles of one page would have) defines nothing twice.
    const second = await page.evaluate(async () => {
      const first = customElements.get('vitrine-styler');
      try {
        const module = await import(new URL('pkg/element.js?second-copy', document.baseURI).href);
        return { threw: null, same: customElements.get('vitrine-styler') === first, exported: typeof module.default };
      } catch (error) {
        return { threw: String(error) };
      }
    });
    assert(second.threw === null && second.same && second.exported === 'function', `a second import of the element: ${JSON.stringify(second)}`);
    const engineFetched = () => log.requests.some((u) => u.endsWith('.wasm'));
    const progress = [];
    await page.exposeFunction('__progress', (d) => progress.push(d));
    await page.evaluate(() => {
      const spacer = document.createElement('div');
      spacer.style.height = '4000px';
      const el = document.createElement('vitrine-styler');
      el.id = 'lazy';
      el.setAttribute('loading', 'lazy');
      el.setAttribute('src', 'samples/logo.png');
      el.setAttribute('alt', 'The logo');
      el.strings = { reveal: 'Essayer un style' };
      el.addEventListener('progress', (e) => window.__progress({ loaded: e.detail.loaded, total: e.detail.total, model: e.detail.model ?? null }));
      document.body.append(spacer, el);
      // The bar, each time it is shown: laid out with a width, at the element's foot.
      const bar = el.shadowRoot.querySelector('[part="progress"]');
      window.__barShown = [];
      new MutationObserver(() => {
        if (!bar.hidden) window.__barShown.push(Math.round(bar.getBoundingClientRect().width));
      }).observe(bar, { attributes: true, attributeFilter: ['hidden'] });
    });
    // The indeterminate bar slides, except for a shopper who asks for less motion.
    const sliding = () => page.evaluate(() => getComputedStyle(document.getElementById('lazy').shadowRoot.querySelector('[part="progress"] span')).animationName);
    const motion = await sliding();
    await page.emulateMedia({ reducedMotion: 'reduce' });
    const reduced = await sliding();
    await page.emulateMedia({ reducedMotion: 'no-preference' });
    console.log(`     the progress bar's animation: ${motion}; with prefers-reduced-motion: ${reduced}`);
    assert(motion !== 'none' && reduced === 'none', `prefers-reduced-motion does not stop the bar (${motion} -> ${reduced})`);
    await page.waitForTimeout(1000);
    assert(!engineFetched(), 'loading="lazy" fetched the engine while far from the viewport');
    assert((await page.textContent('#lazy >> [part="reveal"]')).trim() === 'Essayer un style', 'the reveal string was not replaced');
    await page.evaluate(() => document.getElementById('lazy').scrollIntoView());
    await page.waitForFunction(() => document.getElementById('lazy').loaded, null, { timeout: 60_000 });
    assert(engineFetched(), 'the engine did not load near the viewport');
    const model = progress.filter((p) => p.model === 'presets');
    console.log(`     lazy: ${progress.length} progress events, the preset model's last ${JSON.stringify(model.at(-1))}`);
    assert(model.length > 0 && model.at(-1).total > 0 && model.at(-1).loaded === model.at(-1).total, 'no progress event reached the whole preset model');
    const barShown = await page.evaluate(() => window.__barShown);
    console.log(`     the progress bar shown ${barShown.length} time(s), ${barShown.join(', ')} px wide`);
    assert(barShown.length > 0 && barShown.every((width) => width > 100), `the progress bar was not visible while loading: ${JSON.stringify(barShown)}`);
    // reveal="auto": loaded and styled without any interaction.
    await page.evaluate(() => {
      const el = document.createElement('vitrine-styler');
      el.id = 'auto';
      el.setAttribute('reveal', 'auto');
      el.setAttribute('look', '7');
      el.innerHTML = '<img src="samples/rocket.jpg" alt="A rocket launch" width="600" height="400">';
      document.body.prepend(el);
    });
    await page.waitForFunction(() => {
      const el = document.getElementById('auto');
      return el.loaded && el.shownLook === '7' && !el.busy;
    }, null, { timeout: 60_000 });
    checkRequests(log, 'lazy and auto');
    checkNoErrors(log, 'lazy and auto');
  } finally {
    await close();
  }
});

for (const viewport of [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
]) {
  const label = `${viewport.width}x${viewport.height}`;
  await test(`page at ${label}: product, gallery and painted preview, the photo's space reserved, nothing overlapping, no console error`, async () => {
    // The product photo at its own size (600x400): a few seconds on the CPU path.
    const { page, log, close } = await open(server, { webgpu: false, viewport });
    try {
      // Layout shifts not caused by the shopper's input, from the first paint on.
      await page.evaluate(() => {
        window.__shift = 0;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shift += entry.value;
        }).observe({ type: 'layout-shift', buffered: true });
      });
      const frameBox = () => page.evaluate(() => {
        const r = document.getElementById('styler').shadowRoot.querySelector('[part="frame"]').getBoundingClientRect();
        return { x: r.x + scrollX, y: r.y + scrollY, w: r.width, h: r.height };
      });
      await page.waitForFunction(() => document.getElementById('styler').poster.complete);
      const before = await frameBox();
      await page.screenshot({ path: path.join(OUT, `poster-${label}.png`) });
      await revealByMouse(page);
      await page.waitForFunction((n) => document.getElementById('styler').gallery.length === n, PRESETS);
      // The main thread keeps drawing frames while the worker paints.
      await page.evaluate(() => {
        window.__gaps = { max: 0, frames: 0, run: true };
        let last = performance.now();
        const tick = (now) => {
          window.__gaps.max = Math.max(window.__gaps.max, now - last);
          window.__gaps.frames += 1;
          last = now;
          if (window.__gaps.run) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
      await chooseByMouse(page, '13');
      const gaps = await page.evaluate(() => ((window.__gaps.run = false), window.__gaps));
      console.log(`     ${label}: ${gaps.frames} frames while painting, longest gap ${Math.round(gaps.max)} ms`);
      assert(gaps.max < 250, `the page froze for ${Math.round(gaps.max)} ms while painting`);
      const after = await frameBox();
      assert(JSON.stringify(before) === JSON.stringify(after), `the photo's space moved or changed: ${JSON.stringify(before)} then ${JSON.stringify(after)}`);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.evaluate(() => document.activeElement?.blur());
      // Thumbnails are lazy: let the ones on screen arrive before the picture is taken.
      await page.waitForFunction(() =>
        Array.from(document.getElementById('styler').shadowRoot.querySelectorAll('[part="tiles"] img')).every((img) => {
          const r = img.getBoundingClientRect();
          const onScreen = r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
          return !onScreen || (img.complete && img.naturalWidth > 0);
        }),
      );
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(OUT, `page-${label}.png`) });
      await page.screenshot({ path: path.join(OUT, `page-${label}-full.png`), fullPage: true });
      await checkLayout(page, label);
      const shift = await page.evaluate(() => window.__shift);
      console.log(`     ${label}: layout shift without input ${shift.toFixed(4)}; the photo's box ${before.w}x${before.h} from the first paint on`);
      assert(shift < 0.05, `the page jumped: cumulative layout shift ${shift.toFixed(3)}`);
      const thumbs = await page.evaluate(() => document.getElementById('styler').shadowRoot.querySelectorAll('.cell:not(.original) .thumb img').length);
      assert(thumbs === PRESETS, `the gallery shows ${thumbs} thumbnails`);
      // Presets only: the page fetched neither style-vector model.
      const lazy = vectorModelsFetched(log);
      assert(lazy.length === 0, `a presets-only visit fetched ${lazy.join(', ')}`);
      // On a laptop screen the first view holds the product, the painted preview and the gallery.
      if (viewport.width >= 1024) {
        const firstScreen = await page.evaluate(() => {
          const root = document.getElementById('styler').shadowRoot;
          return [['title', document.getElementById('title')], ['frame', root.querySelector('[part="frame"]')], ['gallery', root.querySelector('[part="gallery"]')]]
            .filter(([, el]) => {
              const r = el.getBoundingClientRect();
              return r.top >= 0 && r.top + Math.min(r.height, 120) <= innerHeight;
            })
            .map(([name]) => name);
        });
        assert(firstScreen.length === 3, `only ${firstScreen.join(', ')} in the first screen`);
      } else {
        // On a phone the photo and the first row of styles are on the first screen.
        const seen = await page.evaluate(() => {
          const root = document.getElementById('styler').shadowRoot;
          const frame = root.querySelector('[part="frame"]').getBoundingClientRect();
          const tile = root.querySelector('[part="tiles"] .cell').getBoundingClientRect();
          return frame.bottom <= innerHeight && tile.bottom <= innerHeight;
        });
        assert(seen, 'on a phone the photo and the styles are not both on the first screen');
      }
      checkRequests(log, label);
      checkNoErrors(log, label);
    } finally {
      await close();
    }
  });
}

server.server.close();
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`${passed} passed, ${failed} failed (screenshots in ${path.relative(repo, OUT)}/)`);
process.exit(failed === 0 && results.length > 0 ? 0 : 1);
