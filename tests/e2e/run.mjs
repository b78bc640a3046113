#!/usr/bin/env node
// End-to-end tests of the demo page in headless Chromium (playwright-core from www/node_modules, Debian's chromium).
//
//   node tests/e2e/run.mjs [--cli target/release/vitrine] [--root www] [--out out/e2e] [--only NAME]
//
// The page is served from 127.0.0.1 by www/serve.mjs. Styled pixels are read from the page's canvas and compared
// with the native CLI's output for the same photo and style (PSNR). Screenshots land in out/e2e/.

import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
const TRANSFORM = 'arbitrary_transform.vitrine.safetensors';
const PREDICTOR = 'arbitrary_predict.vitrine.safetensors';
const PRESETS = 27; // the 26 presets and the house style from the page's configuration
const STYLE = 19; // one preset for the pixel checks
const MIX = [3, 12]; // and one mix of two
const MIN_PSNR = 38;
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

/** The CLI's output for the fixture, as a PNG file. */
async function reference(name, cliArgs) {
  const file = path.join(OUT, `cli_${name}.png`);
  execFileSync(CLI, ['stylize', FIXTURE, '-o', file, '--backend', 'cpu', ...cliArgs], { stdio: 'pipe' });
  return file;
}

/** A browser with a page on the demo, every request and console error recorded. */
async function open(server, { webgpu, query = '', viewport = { width: 1280, height: 800 } }) {
  const browser = await launchChromium({ webgpu });
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, acceptDownloads: true });
  const log = { requests: [], errors: [] };
  context.on('request', (req) => log.requests.push(req.url()));
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') log.errors.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => log.errors.push(`pageerror: ${err.message}`));
  page.on('crash', () => log.errors.push('page crashed'));
  page.on('worker', (worker) => worker.on('close', () => {}));
  await page.goto(`${server.url}${query}`);
  await page.waitForFunction(() => document.documentElement.dataset.backend, null, { timeout: 60_000 });
  return { browser, context, page, log };
}

async function decodeInPage(page, file) {
  const b64 = (await fs.readFile(file)).toString('base64');
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

async function canvasPixels(page, selector = '#after') {
  return page.evaluate((sel) => {
    const canvas = document.querySelector(sel);
    const img = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    return { width: img.width, height: img.height, data: Array.from(img.data) };
  }, selector);
}

/** Wait until the stage shows a finished painting of `mix` (a JSON key as the page writes it). */
async function settled(page, timeout = STYLE_TIMEOUT) {
  await page.waitForFunction(
    () => {
      const s = document.getElementById('stage').dataset;
      return s.state === 'styled' && s.idle === 'true';
    },
    null,
    { timeout, polling: 100 },
  );
}

async function uploadFixture(page) {
  await page.setInputFiles('#file', FIXTURE);
  await page.waitForFunction(
    () => {
      const c = document.getElementById('before');
      return document.getElementById('stage').dataset.photo?.startsWith('own-') && c.width === 96 && c.height === 64;
    },
    null,
    { timeout: 30_000 },
  );
}

/** Hand the page the fixture as a shopper's drop or paste would. */
async function giveFixture(page, how) {
  const b64 = (await fs.readFile(FIXTURE)).toString('base64');
  const before = await page.evaluate(() => document.getElementById('stage').dataset.photo);
  await page.evaluate(({ data, how }) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], 'cup.png', { type: 'image/png' }));
    if (how === 'paste') {
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    } else {
      const target = document.getElementById('frame');
      for (const type of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
      }
    }
  }, { data: b64, how });
  await page.waitForFunction(
    (old) => {
      const photo = document.getElementById('stage').dataset.photo;
      return photo !== old && photo?.startsWith('own-') && document.getElementById('before').width === 96;
    },
    before,
    { timeout: 30_000 },
  );
  assert(!(await page.evaluate(() => document.body.classList.contains('dragging'))), 'the drop hint stayed up');
}

/** Hand the page a style picture: dropped onto the style gallery, or pasted while a style has focus. */
async function giveStylePicture(page, how, file = STYLE_PICTURE) {
  const b64 = (await fs.readFile(file)).toString('base64');
  const before = await page.locator('.vector-cell.mine').count();
  await page.evaluate(({ data, how, name }) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type: 'image/png' }));
    if (how === 'paste') {
      document.querySelector('#style-grid input[name="style"]:checked').focus();
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    } else {
      const target = document.getElementById('style-grid');
      for (const type of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
      }
    }
  }, { data: b64, how, name: path.basename(file) });
  await page.waitForFunction((n) => document.querySelectorAll('.vector-cell.mine').length === n + 1, before);
}

/** The style vectors' model files the page has fetched so far. */
function vectorModelsFetched(log) {
  return [TRANSFORM, PREDICTOR].filter((name) => log.requests.some((url) => url.endsWith(`/${name}`)));
}

async function chooseStyle(page, index) {
  await page.click(`#style-grid input[name="style"][value="${index}"] + .thumb`);
  await page.waitForFunction((i) => document.querySelector(`#style-grid input[value="${i}"]`).checked, index);
  await settled(page);
}

function comparePixels(got, want, label) {
  assert(got.width === want.width && got.height === want.height,
    `${label}: the page shows ${got.width}x${got.height}, the CLI wrote ${want.width}x${want.height}`);
  const db = psnr(got.data, want.data);
  console.log(`     ${label}: PSNR ${db === Infinity ? 'inf' : db.toFixed(2)} dB against the CLI (need ${MIN_PSNR})`);
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

/** The page's main regions: present, visible, inside the page's width, and not overlapping. */
async function checkLayout(page, label) {
  const boxes = await page.evaluate(() => {
    const regions = {
      header: 'header.site',
      preview: '#frame',
      engine: '#engine',
      photos: '#photos',
      title: '#title',
      price: '.price',
      buy: '.buy',
      gallery: '#style-grid',
      controls: '.controls',
      actions: '.actions',
    };
    const out = {};
    for (const [name, sel] of Object.entries(regions)) {
      const el = document.querySelector(sel);
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

// ---------------------------------------------------------------------------------------------------------

await fs.mkdir(OUT, { recursive: true });
const server = await serve({ root: ROOT, port: 0 });
console.log(`serving ${path.relative(repo, ROOT)} at ${server.url}`);

const refStyle = await reference(`style${STYLE}`, ['--style', String(STYLE)]);
const refMix = await reference(`mix${MIX.join('_')}`, ['--style', `${MIX[0]}:0.5,${MIX[1]}:0.5`]);
const refFinish = await reference(`style${STYLE}_s60_keep`, ['--style', String(STYLE), '--strength', '0.6', '--preserve-color']);

// Style vectors: the house style file the page's configuration names, and a picture's style made by the CLI.
const HOUSE_STYLE = path.join(ROOT, 'samples/brand-style.json');
const refHouse = await reference('house', ['--style-vector', HOUSE_STYLE]);
const cliStyle = path.join(OUT, 'cli_own_style.json');
execFileSync(CLI, ['style', STYLE_PICTURE, '-o', cliStyle, '--backend', 'cpu'], { stdio: 'pipe' });
const refOwn = await reference('own_style', ['--style-vector', cliStyle]);
const refOwnHalf = await reference('own_style_s50', ['--style-vector', cliStyle, '--strength', '0.5']);

let gpuPixels = null;

await test('WebGPU (SwiftShader): a fixture photo in one style matches the CLI', async () => {
  const { browser, page, log } = await open(server, { webgpu: true, query: '?backend=webgpu' });
  try {
    assert((await page.getAttribute('html', 'data-backend')) === 'webgpu', 'the page did not start on WebGPU');
    await uploadFixture(page);
    await chooseStyle(page, STYLE);
    gpuPixels = await canvasPixels(page);
    comparePixels(gpuPixels, await decodeInPage(page, refStyle), `webgpu style ${STYLE}`);
    const engine = await page.textContent('#engine');
    console.log(`     the page says: ${engine}`);
    assert(/WebGPU/.test(engine), `the page does not say it uses WebGPU: "${engine}"`);
    checkRequests(log, 'webgpu');
    checkNoErrors(log, 'webgpu');
  } finally {
    await browser.close();
  }
});

await test('no WebGPU: the page says it uses the CPU path and shows the same image', async () => {
  const { browser, page, log } = await open(server, { webgpu: false });
  try {
    assert((await page.getAttribute('html', 'data-backend')) === 'cpu', 'the page did not fall back to the CPU path');
    const engine = await page.textContent('#engine');
    console.log(`     the page says: ${engine}`);
    assert(/processor/.test(engine) && /never leaves/.test(engine), `the page does not say it styles on the processor: "${engine}"`);
    await giveFixture(page, 'drop');
    await chooseStyle(page, STYLE);
    const cpu = await canvasPixels(page);
    comparePixels(cpu, await decodeInPage(page, refStyle), `cpu style ${STYLE}`);
    if (gpuPixels) {
      const db = psnr(cpu.data, gpuPixels.data);
      console.log(`     cpu vs webgpu in the browser: PSNR ${db === Infinity ? 'inf' : db.toFixed(2)} dB`);
      assert(db >= MIN_PSNR, `the CPU and WebGPU pages differ: ${db.toFixed(2)} dB`);
    }

    // Strength and keep-true-colours come from the cached painting: no second run of the network.
    await page.focus('#strength');
    for (let i = 0; i < 40; i++) await page.keyboard.press('ArrowLeft');
    assert((await page.inputValue('#strength')) === '60', 'arrow keys did not move the strength slider');
    await page.check('#keep');
    await settled(page, 20_000);
    comparePixels(await canvasPixels(page), await decodeInPage(page, refFinish), `cpu style ${STYLE} at 60% with true colours`);

    // Strength 0 is the photo itself.
    await page.focus('#strength');
    await page.keyboard.press('Home');
    await page.uncheck('#keep');
    await settled(page, 20_000);
    const photo = await canvasPixels(page, '#before');
    const zero = psnr((await canvasPixels(page)).data, photo.data);
    assert(zero >= 50, `strength 0 should show the photo, PSNR ${zero.toFixed(2)} dB`);
    await page.focus('#strength');
    await page.keyboard.press('End');

    // A mix of two styles, chosen by keyboard.
    await page.focus(`#style-grid input[value="${MIX[0] - 1}"]`);
    await page.keyboard.press('ArrowRight');
    await settled(page);
    assert(await page.isChecked(`#style-grid input[value="${MIX[0]}"]`), 'the arrow key did not move through the gallery');
    await page.selectOption('#second', String(MIX[1]));
    await settled(page);
    assert((await page.inputValue('#mix')) === '50', 'the mix should start at 50%');
    comparePixels(await canvasPixels(page), await decodeInPage(page, refMix), `cpu mix ${MIX.join('+')} 50/50`);

    // The comparison slider moves with the keyboard.
    await page.focus('#compare');
    await page.keyboard.press('ArrowLeft');
    const pos = await page.evaluate(() => document.getElementById('frame').style.getPropertyValue('--pos'));
    assert(pos === '49%', `the before/after slider did not follow the arrow key (${pos})`);

    // The download is a PNG of the painting.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const saved = path.join(OUT, 'download.png');
    await download.saveAs(saved);
    const head = (await fs.readFile(saved)).subarray(0, 8);
    assert(head.equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])), 'the download is not a PNG');
    assert(download.suggestedFilename().endsWith('.png'), `download name ${download.suggestedFilename()}`);

    // A pasted photo replaces the dropped one and is painted in the same look.
    await giveFixture(page, 'paste');
    await settled(page);
    comparePixels(await canvasPixels(page), await decodeInPage(page, refMix), 'cpu pasted photo, same mix');
    assert((await page.locator('.photo-tile.own-photo').count()) === 1, 'one tile for the shopper\'s photo');

    // Bad input is explained on the page: a file that is no image, and a photo too small to paint.
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') });
    await page.waitForSelector('#error:not([hidden])');
    const notImage = await page.textContent('#error');
    assert(/not an image/.test(notImage), `unexpected message for a text file: "${notImage}"`);
    await page.evaluate(async () => {
      const canvas = new OffscreenCanvas(2, 2);
      canvas.getContext('2d').fillRect(0, 0, 2, 2);
      const transfer = new DataTransfer();
      transfer.items.add(new File([await canvas.convertToBlob()], 'dot.png', { type: 'image/png' }));
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    });
    await page.waitForFunction(() => document.getElementById('error').dataset.code === 'IMAGE_TOO_SMALL', null, {
      timeout: 30_000,
    });
    console.log(`     a 2x2 photo: ${await page.textContent('#error')}`);

    checkRequests(log, 'cpu');
    checkNoErrors(log, 'cpu');
  } finally {
    await browser.close();
  }
});

await test('your own style: a dropped picture paints the photo, strength blends vectors, kept after a reload, removable; the house style', async () => {
  const { browser, page, log } = await open(server, { webgpu: false });
  try {
    // The house style from the page's configuration sits in the gallery before any style model is fetched.
    await page.waitForSelector('.vector-cell.shop input:not([disabled])');
    const house = await page.textContent('.vector-cell.shop .name');
    assert(house === 'Atelier glaze', `the house style is called "${house}"`);
    await uploadFixture(page);
    const photoKey = await page.evaluate(() => document.getElementById('stage').dataset.photo);
    assert(vectorModelsFetched(log).length === 0, 'a style model was fetched before any style vector was used');

    // The house style at full strength needs the transformer only.
    await page.click('.vector-cell.shop .thumb');
    await settled(page);
    const photo = await canvasPixels(page, '#before');
    const brand = await canvasPixels(page);
    const brandVsPhoto = psnr(brand.data, photo.data);
    console.log(`     house style: ${brandVsPhoto.toFixed(2)} dB against the photo; fetched ${vectorModelsFetched(log).join(', ')}`);
    assert(brandVsPhoto < 25, 'the house style did not change the photo');
    comparePixels(brand, await decodeInPage(page, refHouse), 'house style (the configured style file)');
    assert(vectorModelsFetched(log).join() === TRANSFORM, 'the house style at full strength should fetch the transformer only');

    // A picture dropped on the gallery becomes a style, chosen and painted at once; the photo stays.
    const dropped = Date.now();
    await giveStylePicture(page, 'drop');
    await page.waitForFunction(() => document.getElementById('stage').dataset.style?.startsWith('v:mine-'));
    await settled(page);
    console.log(`     a dropped style picture painted the photo in ${((Date.now() - dropped) / 1000).toFixed(1)} s (the style reader's download included)`);
    assert((await page.evaluate(() => document.getElementById('stage').dataset.photo)) === photoKey, 'the dropped style picture replaced the photo');
    const own = await canvasPixels(page);
    const ownId = await page.evaluate(() => document.querySelector('.vector-cell.mine').dataset.id);
    const tile = await page.evaluate(() => {
      const cell = document.querySelector('.vector-cell.mine');
      return { checked: cell.querySelector('input').checked, name: cell.querySelector('.name').textContent, thumb: cell.querySelector('img').src.slice(0, 23) };
    });
    assert(tile.checked && tile.thumb === 'data:image/jpeg;base64,', `the new style tile: ${JSON.stringify(tile)}`);
    const ownVsBrand = psnr(own.data, brand.data);
    console.log(`     own style "${tile.name}": ${psnr(own.data, photo.data).toFixed(2)} dB against the photo, ${ownVsBrand.toFixed(2)} dB against the house style`);
    assert(psnr(own.data, photo.data) < 25 && ownVsBrand < 30, 'the own style did not change the preview');
    // The style kept in IndexedDB is the CLI's `vitrine style` of the same picture, and paints as the CLI does.
    const saved = await page.evaluate((id) => new Promise((resolve, reject) => {
      const open = indexedDB.open('vitrine-demo');
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

    // Strength re-paints with the blended vector (Magenta's way); back at 100% the painting is the same as before.
    await page.focus('#strength');
    for (let i = 0; i < 50; i++) await page.keyboard.press('ArrowLeft');
    await page.waitForFunction(() => document.getElementById('stage').dataset.idle === 'false', null, { timeout: 5_000 }).catch(() => {});
    await settled(page);
    const half = await canvasPixels(page);
    const halfVsFull = psnr(half.data, own.data);
    console.log(`     strength 50%: ${halfVsFull.toFixed(2)} dB against 100%`);
    assert((await page.inputValue('#strength')) === '50' && halfVsFull < 40, 'strength 50% did not change the painting');
    comparePixels(half, await decodeInPage(page, refOwnHalf), 'own style at strength 50% (blended with the photo\'s own vector)');
    await page.keyboard.press('End');
    await settled(page);
    assert(psnr((await canvasPixels(page)).data, own.data) === Infinity, 'back at 100% the painting differs');
    assert((await page.isDisabled('#second')), 'the second-style mix should be off for a style vector');

    // A style pasted while the gallery has focus; a file that is no picture is explained.
    await giveStylePicture(page, 'paste', FIXTURE);
    await page.waitForFunction(() => {
      const cells = document.querySelectorAll('.vector-cell.mine');
      return cells.length === 2 && cells[1].querySelector('input').checked;
    });
    await settled(page);
    assert((await page.locator('.vector-cell.mine').count()) === 2, 'two own styles after a paste');
    await page.setInputFiles('#style-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });
    await page.waitForSelector('#error:not([hidden])');
    assert(/not an image/.test(await page.textContent('#error')), 'a text file as a style is not explained');
    await page.screenshot({ path: path.join(OUT, 'own-style-1280x800.png') });

    // After a reload the styles are still there (IndexedDB), and the first paints the same picture again.
    await page.reload();
    await page.waitForFunction(() => document.documentElement.dataset.backend);
    await page.waitForFunction(() => document.querySelectorAll('.vector-cell.mine input:not([disabled])').length === 2);
    await uploadFixture(page);
    await page.click(`.vector-cell[data-id="${ownId}"] .thumb`);
    await settled(page);
    const again = psnr((await canvasPixels(page)).data, own.data);
    console.log(`     after a reload the remembered style paints the same photo: ${again === Infinity ? 'identical' : `${again.toFixed(2)} dB`}`);
    assert(again >= 50, `the remembered style paints differently after a reload (${again.toFixed(2)} dB)`);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('#style-grid').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUT, 'own-style-390x844.png') });
    await checkLayout(page, 'own style at 390x844');

    // Removing a style (by its button, from the keyboard) forgets it, also after a reload.
    await page.focus(`.vector-cell[data-id="${ownId}"] .remove-style`);
    await page.keyboard.press('Enter');
    await page.waitForFunction((id) => !document.querySelector(`.vector-cell[data-id="${id}"]`), ownId);
    assert((await page.evaluate(() => document.getElementById('stage').dataset.state)) === 'photo', 'removing the chosen style should show the photo');
    await page.reload();
    await page.waitForFunction(() => document.documentElement.dataset.backend);
    await page.waitForSelector('.vector-cell.shop');
    await page.waitForTimeout(300);
    const left = await page.locator('.vector-cell.mine').count();
    assert(left === 1, `after removing one of two styles and a reload, ${left} remain`);

    checkRequests(log, 'own style');
    checkNoErrors(log, 'own style');
  } finally {
    await browser.close();
  }
});

for (const viewport of [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
]) {
  const label = `${viewport.width}x${viewport.height}`;
  await test(`page at ${label}: product, gallery and painted preview, nothing overlapping, no console error`, async () => {
    // The product photo at its own size (600x400): a few seconds on the CPU path.
    const { browser, page, log } = await open(server, { webgpu: false, viewport });
    try {
      await page.waitForFunction((n) => document.querySelectorAll('#style-grid input[name="style"]').length === n + 1, PRESETS);
      await page.waitForFunction(() => document.getElementById('before').width === 600);
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
      await page.click('#style-grid input[value="13"] + .thumb');
      await settled(page);
      const gaps = await page.evaluate(() => ((window.__gaps.run = false), window.__gaps));
      console.log(`     ${label}: ${gaps.frames} frames while painting, longest gap ${Math.round(gaps.max)} ms`);
      assert(gaps.max < 250, `the page froze for ${Math.round(gaps.max)} ms while painting`);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.evaluate(() => document.activeElement?.blur());
      // Thumbnails are lazy: let the ones on screen arrive before the picture is taken.
      await page.waitForFunction(() =>
        Array.from(document.querySelectorAll('#style-grid img')).every((img) => {
          const r = img.getBoundingClientRect();
          const onScreen = r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
          return !onScreen || (img.complete && img.naturalWidth > 0);
        }),
      );
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(OUT, `page-${label}.png`) });
      await page.screenshot({ path: path.join(OUT, `page-${label}-full.png`), fullPage: true });
      await checkLayout(page, label);
      const shown = await page.evaluate(() => ({
        title: document.getElementById('title').textContent,
        tiles: document.querySelectorAll('#style-grid input:not([value="none"]) ~ .thumb img').length,
        state: document.getElementById('stage').dataset.state,
      }));
      assert(shown.tiles === PRESETS, `the gallery shows ${shown.tiles} thumbnails`);
      // Presets only: the page fetched neither style-vector model.
      const lazy = vectorModelsFetched(log);
      assert(lazy.length === 0, `a presets-only visit fetched ${lazy.join(', ')}`);
      // On a laptop screen the first view holds the product, the painted preview and the gallery.
      if (viewport.width >= 1024) {
        const firstScreen = await page.evaluate(() =>
          ['#title', '#frame', '#style-grid'].filter((sel) => {
            const r = document.querySelector(sel).getBoundingClientRect();
            return r.top >= 0 && r.top + Math.min(r.height, 120) <= innerHeight;
          }),
        );
        assert(firstScreen.length === 3, `only ${firstScreen.join(', ')} in the first screen`);
      }
      assert(shown.state === 'styled', 'the preview is not painted');
      checkRequests(log, label);
      checkNoErrors(log, label);
    } finally {
      await browser.close();
    }
  });
}

server.server.close();
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`${passed} passed, ${failed} failed (screenshots in ${path.relative(repo, OUT)}/)`);
process.exit(failed === 0 && results.length > 0 ? 0 : 1);
