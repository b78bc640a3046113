// The packed package in the apps a shop builds: `npm pack` www/pkg, install the tarball, and with Vite and React
// from tests/ecosystem/package.json (pinned by its lock):
// - a Vite build of the Styler API: every preset thumbnail is emitted and loads as an image, a photo styles; the
//   same app on Vite's dev server;
// - a Vite build from `vitrine/presets`: no arbitrary-style file in the build, presets paint, a vector says why not;
// - a Vite build of the package README's five-line HTML, exactly as written, and of a React + TypeScript app (tsc
//   strict against the package's JSX types first): in headless Chromium the element paints the photo (its PNG
//   differs from the poster and is the release CLI's image in the same look) and sends `load` and `stylize` (in
//   React through the lowercase `onstylize` prop);
// - every page served under the README's Content Security Policy, with no violation reported; the Styler page
//   without 'wasm-unsafe-eval' and without connect-src: WASM_LOAD, naming the policy;
// - every entry imported in Node (server-side rendering), where window, document and customElements are absent:
//   no throw (a module that used one at import time, rather than check for it, would throw).
//
//   node tests/ecosystem/run.mjs      (after `make web` and `make ecosystem-deps`; `make ecosystem-test` does all)
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checks, launchChromium, psnrRgba } from '../support/browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const pkgDir = join(root, 'www', 'pkg');
const work = join(root, 'target', 'ecosystem-test');
const tools = join(here, 'node_modules');
const PHOTO = join(root, 'www', 'samples', 'coffee.jpg');
// The policy the package README documents (its "Content Security Policy" section is checked to hold it).
const POLICY = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; img-src 'self' blob: data:; style-src 'self'";
const NO_WASM_POLICY = "default-src 'self'; script-src 'self'; img-src 'self' blob: data:";
const NO_CONNECT_POLICY = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'none'; img-src 'self' blob: data:";
const ARBITRARY = ['arbitrary_transform', 'arbitrary_predict'];
const PRESET_COUNT = 26;
// The element's PNG against the poster's pixels: mean absolute difference per channel, of 255, above this is a
// painted photo (a style moves most pixels by tens of levels; the same photo re-encoded moves them by 1 or 2).
const MIN_STYLED_DIFFERENCE = 8;
// The element's PNG against the native CLI's output for the same photo and look: the bar the e2e test holds the
// demo page's canvas to.
const MIN_PSNR_VS_CLI = 38;
const CLI = join(root, 'target', 'release', 'vitrine');
const STYLIZE_TIMEOUT_MS = 5 * 60 * 1000;
const TIMEOUT_MS = 20 * 60 * 1000;

const { check, finish } = checks('ecosystem test', TIMEOUT_MS);

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.wasm': 'application/wasm', '.jpg': 'image/jpeg', '.png': 'image/png',
  '.safetensors': 'application/octet-stream', '.svg': 'image/svg+xml',
};

// A static server for a build folder whose every response carries `headers()` (the policy under test), and which
// records what was asked for. 127.0.0.1 only; nothing outside `dir`.
async function serveBuild(dir, headers) {
  const requests = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
    requests.push(path);
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const file = resolve(dir, `.${path.endsWith('/') ? `${path}index.html` : path}`);
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store', ...headers() }).end(readFileSync(file));
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${server.address().port}/`, requests, close: () => new Promise((done) => server.close(done)) };
}

// The packed package installed into a scratch shop, with Vite, React and their types beside it.
function install() {
  if (!existsSync(join(pkgDir, 'package.json'))) throw new Error('www/pkg is not built: run `make web` first');
  if (!existsSync(join(tools, 'vite'))) throw new Error('tests/ecosystem/node_modules is missing: run `make ecosystem-deps`');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const [packed] = JSON.parse(execFileSync('npm', ['pack', pkgDir, '--pack-destination', work, '--json'], { encoding: 'utf8' }));
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'shop', private: true, type: 'module' }, null, 2));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(work, packed.filename)], { cwd: work, stdio: 'ignore' });
  for (const name of readdirSync(tools)) {
    if (!name.startsWith('.') && !existsSync(join(work, 'node_modules', name))) symlinkSync(join(tools, name), join(work, 'node_modules', name));
  }
  console.log(`packed ${packed.filename} (${packed.entryCount} files) installed into ${work}`);
  return JSON.parse(readFileSync(join(work, 'node_modules', 'vitrine', 'package.json'), 'utf8'));
}

async function vite() {
  const manifest = JSON.parse(readFileSync(join(tools, 'vite', 'package.json'), 'utf8'));
  const dot = manifest.exports['.'];
  const entry = typeof dot === 'string' ? dot : dot.import?.default ?? dot.import ?? dot.default;
  return import(pathToFileURL(join(tools, 'vite', entry)).href);
}

// Builds `app` (a folder under work/) with Vite's production build; returns the output folder.
async function build(app, extra = {}) {
  const { build: viteBuild } = await vite();
  const appRoot = join(work, app);
  await viteBuild({
    root: appRoot,
    configFile: false,
    logLevel: 'warn',
    build: { outDir: join(appRoot, 'dist'), emptyOutDir: true },
    ...extra,
  });
  return join(appRoot, 'dist');
}

const listing = (dir) => readdirSync(dir, { recursive: true }).map(String);

// The README's code blocks: [{ lang, code }].
function readmeBlocks() {
  const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
  return [...readme.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map(([, lang, code]) => ({ lang, code }));
}

async function inBrowser(body) {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    // Every CSP violation and element event, recorded from before the page's own scripts run (the capture phase on
    // document sees events that do not bubble; a `load` event never reaches window).
    await page.addInitScript(() => {
      window.recorded = { violations: [], events: [] };
      document.addEventListener('securitypolicyviolation', (event) => {
        window.recorded.violations.push(`${event.effectiveDirective} blocked ${event.blockedURI || 'inline'}`);
      });
      for (const type of ['load', 'progress', 'stylize', 'error', 'look-change']) {
        document.addEventListener(type, (event) => {
          if (event.target?.localName === 'vitrine-styler') {
            window.recorded.events.push({ type, detail: JSON.parse(JSON.stringify(event.detail ?? null)) });
          }
        }, true);
      }
    });
    return await body(page, problems);
  } finally {
    await browser.close();
  }
}

async function runShop(url, label, problems, page) {
  await page.goto(url);
  await page.waitForFunction(() => window.shopReady === true, null, { timeout: 60_000 });
  const report = await page.evaluate(() => window.shop.run());
  const violations = await page.evaluate(() => window.recorded.violations);
  if (problems.length) console.log(`     (${label}: ${problems.join(' | ')})`);
  return { report, violations };
}

// The element in a built page, under the README's policy: waits for `stylize`, then compares its PNG (toBlob) with
// the poster's pixels.
// The native CLI's PNG of the photo in `look` at full size, as base64 (the pages' elements style it unscaled).
function cliReference(look) {
  const file = join(work, `cli_style${look}.png`);
  if (!existsSync(file)) execFileSync(CLI, ['stylize', PHOTO, '-o', file, '--style', String(look), '--max-size', '0', '--backend', 'cpu'], { stdio: 'pipe' });
  return readFileSync(file).toString('base64');
}

async function driveElement(dist, label, { titleFromProps = false } = {}) {
  const server = await serveBuild(dist, () => ({ 'Content-Security-Policy': POLICY }));
  try {
    await inBrowser(async (page, problems) => {
      await page.goto(server.url);
      const started = Date.now();
      await page.waitForFunction(() => window.recorded.events.some((e) => e.type === 'stylize' || e.type === 'error'), null, { timeout: STYLIZE_TIMEOUT_MS })
        .catch(() => {});
      const events = await page.evaluate(() => window.recorded.events);
      const types = [...new Set(events.map((e) => e.type))];
      const error = events.find((e) => e.type === 'error');
      const load = events.find((e) => e.type === 'load');
      const stylize = events.find((e) => e.type === 'stylize');
      check(Boolean(load) && ['cpu', 'webgpu'].includes(load.detail?.backend), `${label}: the element sends load with its backend`, JSON.stringify(load?.detail ?? types));
      check(Boolean(stylize) && !error, `${label}: the element sends stylize`,
        stylize ? `${JSON.stringify(stylize.detail)}, ${((Date.now() - started) / 1000).toFixed(1)} s after load` : `events: ${types.join()} ${error ? JSON.stringify(error.detail) : ''}`);
      if (stylize) {
        const compared = await page.evaluate(async (referenceBase64) => {
          const element = document.querySelector('vitrine-styler');
          const poster = element.querySelector('img');
          await poster.decode();
          const blob = await element.toBlob();
          const styled = await createImageBitmap(blob);
          const pixels = (source, width, height) => {
            const canvas = new OffscreenCanvas(width, height);
            const ctx = canvas.getContext('2d');
            ctx.drawImage(source, 0, 0, width, height);
            return ctx.getImageData(0, 0, width, height).data;
          };
          const a = pixels(styled, styled.width, styled.height);
          const b = pixels(poster, styled.width, styled.height);
          let sum = 0;
          for (let i = 0; i < a.length; i += 4) for (let c = 0; c < 3; c += 1) sum += Math.abs(a[i + c] - b[i + c]);
          const referenceBytes = Uint8Array.from(atob(referenceBase64), (ch) => ch.charCodeAt(0));
          const reference = await createImageBitmap(new Blob([referenceBytes], { type: 'image/png' }));
          const base64 = (bytes) => {
            let text = '';
            for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
            return btoa(text);
          };
          return { type: blob.type, width: styled.width, height: styled.height, posterWidth: poster.naturalWidth,
            posterHeight: poster.naturalHeight, difference: sum / (a.length / 4 * 3), styled: base64(a),
            reference: `${reference.width}x${reference.height}`,
            referencePixels: base64(pixels(reference, reference.width, reference.height)) };
        }, cliReference(stylize.detail.look));
        check(compared.type === 'image/png' && compared.width === compared.posterWidth && compared.height === compared.posterHeight,
          `${label}: toBlob() is a PNG of the photo's size`, `${compared.type} ${compared.width}x${compared.height}`);
        check(compared.difference > MIN_STYLED_DIFFERENCE, `${label}: the styled photo differs from the poster`,
          `mean difference ${compared.difference.toFixed(1)} of 255 (> ${MIN_STYLED_DIFFERENCE})`);
        const sameSize = compared.reference === `${compared.width}x${compared.height}`;
        const db = sameSize ? psnrRgba(Buffer.from(compared.styled, 'base64'), Buffer.from(compared.referencePixels, 'base64')) : null;
        check(db !== null && db >= MIN_PSNR_VS_CLI, `${label}: toBlob() is the CLI's image of the photo in look ${stylize.detail.look} (>= ${MIN_PSNR_VS_CLI} dB)`,
          db === null ? `sizes differ: ${compared.width}x${compared.height} against the CLI's ${compared.reference}` : `${db === Infinity ? 'inf' : db.toFixed(2)} dB on ${load.detail.backend}`);
      }
      if (titleFromProps) {
        const title = await page.title();
        check(title.startsWith('styled 19'), `${label}: the JSX onstylize prop receives the stylize event`, `title: ${JSON.stringify(title)}`);
      }
      const violations = await page.evaluate(() => window.recorded.violations);
      check(violations.length === 0, `${label}: no Content Security Policy violation under the README's policy`, violations.join('; '));
      check(problems.length === 0, `${label}: no page error`, problems.join(' | '));
    });
  } finally {
    await server.close();
  }
}

// Both entries in Node, as server-side rendering imports them: window, document and customElements are traps.
function checkNodeImport(installed) {
  const entries = ['vitrine', 'vitrine/presets', ...(installed.exports['./element'] ? ['vitrine/element'] : [])];
  const script = `
    const touched = [];
    for (const name of ['window', 'document', 'customElements', 'HTMLElement', 'navigator']) {
      const had = Object.getOwnPropertyDescriptor(globalThis, name);
      Object.defineProperty(globalThis, name, { configurable: true, get() { touched.push(name); return had?.get ? had.get() : had?.value; } });
    }
    const results = {};
    for (const entry of ${JSON.stringify(entries)}) {
      try {
        const module = await import(entry);
        results[entry] = { exports: Object.keys(module).sort() };
      } catch (error) {
        results[entry] = { error: String(error) };
      }
    }
    // Creating a Styler on the server says where vitrine runs.
    const { Styler } = await import('vitrine');
    const created = await Styler.create().then(() => ({ code: 'no error' }), (error) => ({ code: error.code, message: error.message }));
    console.log(JSON.stringify({ results, touched, created }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: work, encoding: 'utf8' });
  const { results, touched, created } = JSON.parse(out.trim().split('\n').pop());
  check(created.code === 'WASM_LOAD' && /runs in a browser/.test(created.message), 'Styler.create in Node rejects WASM_LOAD saying vitrine runs in a browser', `${created.code}: ${created.message}`);
  for (const entry of entries) {
    check(!results[entry].error, `Node imports ${entry} without throwing`, results[entry].error ?? results[entry].exports.join(', '));
  }
  // The globals are absent, as in Node: a module that used one at import time (rather than check it is there) would
  // have thrown above.
  console.log(`     (probed for presence in Node: ${[...new Set(touched)].join(', ') || 'nothing'})`);
  check(entries.includes('vitrine/element'), "the package exports './element'", Object.keys(installed.exports).join(' '));
}

async function main() {
  const installed = install();
  check(JSON.stringify(installed.sideEffects ?? false).includes('element.js'), "package.json says the element's entry has side effects", JSON.stringify(installed.sideEffects));
  const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
  check(readme.includes(`Content-Security-Policy: ${POLICY}`), "the README's Content Security Policy section gives the tested policy");
  checkNodeImport(installed);

  for (const app of ['styler', 'presets', 'react']) cpSync(join(here, 'apps', app), join(work, app), { recursive: true });

  // The Styler API through Vite: thumbnails and models emitted, and the policies.
  const stylerDist = await build('styler');
  const built = listing(stylerDist);
  const builtThumbnails = built.filter((f) => /^assets\/\d\d-.*\.jpg$/.test(f));
  check(ARBITRARY.every((name) => built.some((f) => f.includes(name))), 'the main entry: Vite emits both arbitrary-style models',
    built.filter((f) => f.endsWith('.safetensors')).join(', '));
  console.log(`     (Vite emitted ${builtThumbnails.length} thumbnails as files; it inlines ones below its 4 KB limit as data: URLs)`);
  for (const [label, policy] of [['the README policy', POLICY], ["no 'wasm-unsafe-eval'", NO_WASM_POLICY], ["connect-src 'none'", NO_CONNECT_POLICY]]) {
    const server = await serveBuild(stylerDist, () => ({ 'Content-Security-Policy': policy }));
    try {
      await inBrowser(async (page, problems) => {
        const { report, violations } = await runShop(server.url, label, problems, page);
        if (policy === POLICY) {
          check(report.ok, 'Vite build, Styler API, under the README policy: create and stylize', report.ok ? `mean change ${report.changed.toFixed(1)}` : `${report.code}: ${report.message}`);
          if (report.ok) {
            const loaded = report.thumbnails.filter((t) => t.width > 0 && t.height > 0);
            check(report.thumbnails.length === PRESET_COUNT && loaded.length === PRESET_COUNT, 'Vite build: every preset thumbnail loads as an image',
              `${loaded.length} of ${report.thumbnails.length}; failed: ${report.thumbnails.filter((t) => !t.width).map((t) => t.url).join(' ')}`);
            const fromBuild = report.thumbnails.every((t) => t.url.startsWith('data:image/jpeg') || server.requests.includes(new URL(t.url).pathname));
            check(fromBuild, "Vite build: the thumbnails are the build's own files", report.thumbnails.slice(0, 2).map((t) => t.url.slice(0, 60)).join(' '));
          }
          check(violations.length === 0, 'Vite build, Styler API: no violation under the README policy', violations.join('; '));
        } else {
          const named = /Content Security Policy/.test(report.message ?? '');
          const directive = policy === NO_WASM_POLICY ? /wasm-unsafe-eval/ : /connect-src/;
          check(!report.ok && report.code === 'WASM_LOAD' && report.vitrineError && named && directive.test(report.message),
            `under a policy with ${label}, Styler.create rejects WASM_LOAD naming the policy`, `${report.code}: ${report.message}`);
        }
      });
    } finally {
      await server.close();
    }
  }

  // The same app on Vite's dev server (dependency pre-bundling on, as a shop runs it): thumbnails are images, not
  // the app's HTML fallback.
  {
    const { createServer: viteServer } = await vite();
    const dev = await viteServer({ root: join(work, 'styler'), configFile: false, logLevel: 'warn', server: { host: '127.0.0.1', port: 0 } });
    await dev.listen();
    try {
      await inBrowser(async (page, problems) => {
        const { report } = await runShop(dev.resolvedUrls.local[0], 'dev server', problems, page);
        const types = report.ok ? await page.evaluate(async (urls) => Promise.all(urls.map(async (u) => (await fetch(u)).headers.get('content-type'))), report.thumbnails.map((t) => t.url)) : [];
        const loaded = report.ok ? report.thumbnails.filter((t) => t.width > 0).length : 0;
        check(report.ok && loaded === PRESET_COUNT && types.every((t) => t === 'image/jpeg'), 'Vite dev server: create and stylize, every thumbnail an image/jpeg that loads',
          report.ok ? `${loaded} of ${PRESET_COUNT}; ${[...new Set(types)].join(', ')}` : `${report.code}: ${report.message}`);
      });
    } finally {
      await dev.close();
    }
  }

  // vitrine/presets: the build holds neither arbitrary-style file.
  const presetsDist = await build('presets');
  const presetFiles = listing(presetsDist);
  check(presetFiles.some((f) => f.includes('multistyle26')) && !presetFiles.some((f) => ARBITRARY.some((name) => f.includes(name))),
    'vitrine/presets: the Vite build has the preset model and neither arbitrary-style model', presetFiles.filter((f) => f.endsWith('.safetensors')).join(', '));
  {
    const server = await serveBuild(presetsDist, () => ({ 'Content-Security-Policy': POLICY }));
    try {
      await inBrowser(async (page, problems) => {
        const { report } = await runShop(server.url, 'presets', problems, page);
        check(report.changed && report.thumbnails === PRESET_COUNT, 'vitrine/presets: a preset paints');
        check(report.vector.isVitrineError && report.vector.code === 'STYLE_KIND' && /vitrine\/presets/.test(report.vector.message),
          'vitrine/presets: a style vector is refused with STYLE_KIND, naming what to import', `${report.vector.code}: ${report.vector.message}`);
      });
    } finally {
      await server.close();
    }
  }

  // The README's five lines, exactly as written, as a Vite app's index.html.
  const html = readmeBlocks().find((block) => block.lang === 'html' && block.code.includes('<vitrine-styler'));
  const lines = html ? html.code.trimEnd().split('\n') : [];
  check(Boolean(html) && lines.length <= 5 && (html.code.match(/<script/g) ?? []).length === 1 && (html.code.match(/<vitrine-styler/g) ?? []).length === 1,
    "the README's quick start is one script import and one element in at most five lines of HTML", `${lines.length} lines`);
  if (html) {
    const plain = join(work, 'plain');
    mkdirSync(join(plain, 'public'), { recursive: true });
    writeFileSync(join(plain, 'index.html'), html.code);
    // The poster goes through Vite (a hashed asset); the element's own `src` is fetched as written, from public/.
    const photoName = html.code.match(/src="([^"]+)"/)[1];
    copyFileSync(PHOTO, join(plain, photoName));
    copyFileSync(PHOTO, join(plain, 'public', photoName));
    const dist = await build('plain');
    check(listing(dist).some((f) => /^assets\/.*\.js$/.test(f)) && !/<script type="module">[^<]/.test(readFileSync(join(dist, 'index.html'), 'utf8')),
      'the five-line page: Vite moves the inline import into a script file (script-src self suffices)');
    await driveElement(dist, 'the README five-line page (Vite)');
  }

  // React + TypeScript: the package's JSX types under tsc --strict, then the Vite build in Chromium.
  const react = join(work, 'react');
  mkdirSync(join(react, 'public'), { recursive: true });
  copyFileSync(PHOTO, join(react, 'public', 'mug.jpg'));
  // The README's React recipe is type-checked with the app.
  const recipe = readmeBlocks().find((block) => block.lang === 'tsx');
  check(Boolean(recipe), 'the README has a React + TypeScript recipe');
  if (recipe) writeFileSync(join(react, 'readme-example.tsx'), recipe.code);
  const tsc = join(root, 'www', 'node_modules', 'typescript', 'bin', 'tsc');
  const what = "React + TypeScript: the app and the README's recipe type-check under strict with the package's JSX types";
  try {
    execFileSync(process.execPath, [tsc, '-p', join(react, 'tsconfig.json')], { cwd: react, encoding: 'utf8' });
    check(true, what);
  } catch (error) {
    check(false, what, `${error.stdout ?? ''}${error.stderr ?? ''}`);
  }
  const reactDist = await build('react', { oxc: { jsx: { runtime: 'automatic', importSource: 'react' } } });
  await driveElement(reactDist, 'React app (Vite)', { titleFromProps: true });
}

await finish(main);
