// The npm package as a shop's developer meets it: `npm pack` www/pkg, install the tarball into a scratch app,
// serve the app on 127.0.0.1, and in headless Chromium import Styler from the package's ESM entry to style a photo
// no other test uses, on WebGPU (SwiftShader) and on the CPU, against onnxruntime on the fp32 model. Then Chromium
// without WebGPU: 'auto' must say 'cpu' and give the same image.
//
//   node tests/package/run.mjs      (after `make web`; `make package-test` does both)
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../../www/serve.mjs';
import { ISOLATION, checks, launchChromium, psnrAgainstPlanar, writeShopPage } from '../support/browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const pkgDir = join(root, 'www', 'pkg');
const work = join(root, 'target', 'package-test');
const app = join(work, 'app');
const FIXTURE = join(root, 'tests', 'fixtures', 'browser', 'rocket_96x96.safetensors');
// onnxruntime on the float-activation arbitrary-style files (models/arbitrary_reference.py).
const ARBITRARY = join(root, 'tests', 'fixtures', 'arbitrary');
const MIN_PSNR_DB = 38;
// The predictor's vector for a picture, with vitrine's Lanczos standing in for PIL's (tests/arbitrary.rs: > 0.999).
const MIN_VECTOR_COSINE = 0.999;
const VECTOR_MODELS = ['arbitrary_transform.vitrine.safetensors', 'arbitrary_predict.vitrine.safetensors'];
// WebGPU (SwiftShader) against the CPU path after rounding to 8 bits (about 1e-5 apart before it).
const MAX_GPU_CPU_LEVELS = 1;
// tileSize: a 256x256 photo in 64 px tiles (16, with 72 px halos and whole-image norm statistics) against the whole
// run on the same backend; they agree to float rounding (tests/tiling.rs measures 90-99 dB before 8-bit rounding).
const MIN_TILED_PSNR_DB = 45;
const TIMEOUT_MS = 30 * 60 * 1000;
// gpuTimeout for the never-settling GPU call (the package's default is two minutes): at least this, 3x what opening
// WebGPU (compiling every pipeline) took in the same page, and 5x what a warm 96x96 call takes on SwiftShader there
// (about 2 s on a loaded 2-core machine); and how much later than it the call may end (timers and the event loop).
const GPU_TIMEOUT_MS = 8000;
const MAX_TIMEOUT_LATENESS_MS = 15_000;



const { check, finish } = checks('package test', TIMEOUT_MS);

function readSafetensors(file) {
  const bytes = readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  const tensor = (name) => {
    const [start, end] = header[name].data_offsets;
    const data = bytes.subarray(8 + headerLength + start, 8 + headerLength + end);
    return { shape: header[name].shape, data: new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
  };
  return { header, tensor };
}

function readFixture() {
  const { header, tensor } = readSafetensors(FIXTURE);
  const meta = JSON.parse(header.__metadata__.cases);
  const [height, width] = header.input.shape;
  return { width, height, cases: meta.cases, expected: (name) => tensor(`${name}.expected`).data };
}

// The arbitrary-style references: a 96x72 photo (its `input` is a PNG's pixels / 255, so RGBA8 is exact), its
// styling with a style vector at full strength and at strength 0.5, and the style picture with its vector.
function readArbitrary() {
  const transform = readSafetensors(join(ARBITRARY, 'transform_rocket_96x72.safetensors'));
  const strength = readSafetensors(join(ARBITRARY, 'transform_rocket_96x72_strength.safetensors'));
  const predict = readSafetensors(join(ARBITRARY, 'predict_astronaut.safetensors'));
  const [, height, width] = transform.header.input.shape;
  const planar = transform.tensor('input').data;
  const plane = width * height;
  const input = new Array(plane * 4);
  for (let i = 0; i < plane; i += 1) {
    for (let c = 0; c < 3; c += 1) input[i * 4 + c] = Math.round(planar[c * plane + i] * 255);
    input[i * 4 + 3] = 255;
  }
  return {
    page: {
      width,
      height,
      input,
      vector: Array.from(transform.tensor('vector').data),
      styleVector: Array.from(strength.tensor('style_vector').data),
      stylePng: readFileSync(join(ARBITRARY, 'style_astronaut_300x220.png')).toString('base64'),
    },
    expected: transform.tensor('expected').data,
    expectedHalf: strength.tensor('expected').data,
    pictureVector: predict.tensor('vector').data,
  };
}

function cosine(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

// Style vectors on one backend against onnxruntime, and which models were fetched when.
function checkVectors(backend, report, arbitrary) {
  const { width, height } = arbitrary.page;
  check(report.backend === backend, `vectors: backend '${backend}' runs on ${backend}`, report.backend);
  const [transform, predictor] = VECTOR_MODELS;
  const fetched = (phase, name) => report.phases[phase].includes(name);
  check(!fetched('create', transform) && !fetched('create', predictor), `${backend}: Styler.create fetches neither arbitrary-style model`, report.phases.create.join());
  check(fetched('vector', transform) && !fetched('vector', predictor), `${backend}: a style vector at full strength fetches the transformer, not the predictor`, report.phases.vector.join());
  check(fetched('styleFromImage', predictor), `${backend}: styleFromImage fetches the predictor`, report.phases.styleFromImage.join());
  const models = report.progress.filter((m, i) => m !== report.progress[i - 1]).join();
  check(models === 'presets,transform,predictor', `${backend}: onProgress reports each model as it downloads`, models);
  const full = psnr(report.full, arbitrary.expected, width, height);
  check(full >= MIN_PSNR_DB, `${backend}: a style vector at ${width}x${height} vs onnxruntime`,
    `${full.toFixed(2)} dB (>= ${MIN_PSNR_DB}), ${report.timings.vector.toFixed(0)} ms with the transformer's download`);
  const half = psnr(report.half, arbitrary.expectedHalf, width, height);
  check(half >= MIN_PSNR_DB, `${backend}: strength 0.5 blends in the photo's own vector (Magenta) vs onnxruntime`,
    `${half.toFixed(2)} dB (>= ${MIN_PSNR_DB}), ${report.timings.strength.toFixed(0)} ms`);
  const { style } = report;
  const finite = Array.isArray(style?.vector) && style.vector.length === 100 && style.vector.every(Number.isFinite);
  check(finite && style.format === 'vitrine-style' && style.version === 1 && style.model === 'arbitrary_transform',
    `${backend}: styleFromImage returns a version 1 style file of 100 finite numbers`, JSON.stringify({ ...style, vector: `${style?.vector?.length} numbers` }));
  check(report.styleIsPlain, `${backend}: the style is a plain object that survives JSON`);
  const similarity = cosine(style.vector, arbitrary.pictureVector);
  check(similarity > MIN_VECTOR_COSINE, `${backend}: styleFromImage of the 300x220 picture vs onnxruntime's vector`,
    `cosine ${similarity.toFixed(6)} (> ${MIN_VECTOR_COSINE}), ${report.timings.styleFromImage.toFixed(0)} ms with the predictor's download`);
}

// A photo whole and in 64 px tiles on one backend (tests/package/page.js, `tiles`).
function checkTiles(backend, report, ms) {
  const { whole, tiled } = report.plans;
  check(report.backend.every((b) => b === backend), `tileSize: both Stylers run on ${backend}`, report.backend.join());
  check(whole.mode === 'whole' && whole.tiles === 1, `${backend}: without tileSize a 256x256 photo runs whole`, JSON.stringify(whole));
  check(tiled.mode === 'streamed' && tiled.tiles === 16 && tiled.tileSize === 64 && tiled.halo >= 64,
    `${backend}: tileSize 64 streams a 256x256 photo in 16 tiles with halos`, JSON.stringify(tiled));
  for (const c of report.cases) {
    check(c.sameSize && c.alphaKept, `${backend} ${c.style} in tiles: the input's size, opaque`);
    check(c.psnr >= MIN_TILED_PSNR_DB, `${backend} ${c.style}: 256x256 in 16 tiles of 64 px vs whole`,
      `${c.psnr === Infinity ? 'identical' : `${c.psnr.toFixed(2)} dB`} (>= ${MIN_TILED_PSNR_DB} dB), max difference ${c.worst} of 255; whole ${(c.wholeMs / 1000).toFixed(1)} s, tiled ${(c.tiledMs / 1000).toFixed(1)} s`);
  }
  if (report.errors) {
    for (const [what, code] of Object.entries(report.errors)) {
      const expected = what === 'planTooSmall' ? 'IMAGE_TOO_SMALL' : 'BAD_OPTION';
      check(code === expected, `tileSize: ${what} is refused with code ${expected}`, code);
    }
  }
  console.log(`     (${backend} tiles: ${(ms / 1000).toFixed(0)} s in all)`);
}

const psnr = psnrAgainstPlanar;

// `background` on the product photo (tests/package/page.js, `backdrop`): far from the product the backdrop is the
// photo's within 2 levels (auto, keep), exactly 255 (white), alpha 0 (transparent) or painted; the product's centre
// stays opaque; the report is the CLI's --json record. Under maxSize and through finish as at full size.
const APPLIED = { auto: 'kept', keep: 'kept', white: 'white', transparent: 'transparent', paint: 'painted' };
function backdropHolds(mode, s) {
  const far = { auto: s.moved <= 2 && s.opaque, keep: s.moved <= 2 && s.opaque, white: s.white && s.opaque, transparent: s.clear, paint: s.moved >= 40 && s.opaque }[mode];
  // The shadow below the product (grey in the photo) is backdrop too: kept, made white, or cut away.
  const { photo, image, alpha } = s.shadow;
  const shadow = { auto: Math.abs(image - photo) <= 2, keep: Math.abs(image - photo) <= 2, white: image === 255, transparent: alpha === 0, paint: true }[mode];
  return far && shadow && photo < 220 && s.centreAlpha === 255 && s.size.join('x') === '200x160';
}
function reportHolds(mode, s) {
  const b = s.background;
  const found = mode === 'paint' ? b?.product === null : typeof b?.product === 'number' && b.product > 0.1 && b.product < 0.5;
  return b !== null && b.mode === mode && b.applied === APPLIED[mode] && b.reason === null && found
    && Object.keys(b).join() === 'mode,applied,product,reason';
}
const described = (s) => `far backdrop moved ${s.moved}, white ${s.white}, clear ${s.clear}, opaque ${s.opaque}; shadow ${s.shadow.photo} -> ${s.shadow.image} (alpha ${s.shadow.alpha}); centre alpha ${s.centreAlpha}; ${JSON.stringify(s.background)}`;

function checkBackdrop(backend, report, extras) {
  check(report.backend === backend, `background: the Styler runs on ${backend}`, report.backend);
  for (const [mode, s] of Object.entries(report.modes)) {
    check(backdropHolds(mode, s) && reportHolds(mode, s), `${backend}: background '${mode}' on a product photo on white: backdrop ${APPLIED[mode]}, reported`,
      `${described(s)}, ${s.ms.toFixed(0)} ms`);
  }
  if (!extras) return;
  check(backdropHolds('auto', report.defaultMode) && reportHolds('auto', report.defaultMode), `${backend}: background defaults to 'auto'`, described(report.defaultMode));
  for (const [mode, s] of Object.entries(report.maxSize)) {
    const same = JSON.stringify(s.background) === JSON.stringify(report.modes[mode].background);
    check(backdropHolds(mode, s) && same, `${backend}: maxSize 100 (styled at 100x80) keeps background '${mode}' at full size, the full-size photo's report`, described(s));
  }
  for (const [mode, s] of Object.entries(report.finish)) {
    const expected = mode === 'given' ? 'white' : mode;
    check(backdropHolds(expected, s) && s.background?.mode === expected, `${backend}: finish re-blends (strength 0.5, true colours) and keeps background '${expected}'${mode === 'given' ? ' (given, for a copied result)' : ' (from the report)'}`, described(s));
  }
  const e = report.errors;
  check(e.stylize.startsWith('BAD_OPTION') && /auto, keep, white, transparent, paint/.test(e.stylize), `${backend}: background 'grey' is refused with BAD_OPTION, naming the modes`, e.stylize);
  check(e.number.startsWith('BAD_OPTION') && e.finish.startsWith('BAD_OPTION'), `${backend}: a number, and 'Auto' in finish, are BAD_OPTION`, `${e.number}; ${e.finish}`);
}

function pack() {
  if (!existsSync(join(pkgDir, 'package.json'))) throw new Error('www/pkg is not built: run `make web` first');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(app, { recursive: true });
  const [packed] = JSON.parse(execFileSync('npm', ['pack', pkgDir, '--pack-destination', work, '--json'], { encoding: 'utf8' }));
  console.log(`packed ${packed.filename}: ${packed.entryCount} files, ${packed.size} bytes`);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'shop-app', private: true, type: 'module' }, null, 2));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(work, packed.filename)], { cwd: app, stdio: 'inherit' });
  const installed = JSON.parse(readFileSync(join(app, 'node_modules', 'vitrine', 'package.json'), 'utf8'));
  const entry = installed.exports?.['.']?.default;
  check(installed.type === 'module' && typeof entry === 'string', 'the package is ESM with an exports map', entry);
  const types = installed.exports?.['.']?.types;
  check(types && existsSync(join(app, 'node_modules', 'vitrine', types)), 'the exports map names the declarations', types);
  // The declarations, as a TypeScript shop compiles against them (strict, Node's ESM resolution through `exports`).
  copyFileSync(join(here, 'consumer.ts'), join(app, 'consumer.ts'));
  const tsc = join(root, 'www', 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext',
      '--moduleResolution', 'nodenext', '--lib', 'es2022,dom', 'consumer.ts'], { cwd: app, encoding: 'utf8' });
    check(true, 'the TypeScript declarations type-check a strict consumer (tsc)');
  } catch (error) {
    check(false, 'the TypeScript declarations type-check a strict consumer (tsc)', `${error.stdout ?? ''}${error.stderr ?? ''}`);
  }
  checkReadmeTypeScript(app, tsc);
  checkManifest(installed);
  // The page imports the bare name, resolved as a bundler would: through the package's exports map.
  writeShopPage(app, 'shop', entry);
  copyFileSync(join(here, 'page.js'), join(app, 'page.js'));
  mkdirSync(join(app, 'fixtures'));
  copyFileSync(FIXTURE, join(app, 'fixtures', 'rocket_96x96.safetensors'));
  copyFileSync(join(root, 'www', 'samples', 'coffee.jpg'), join(app, 'fixtures', 'coffee.jpg'));
}

// The package README's JavaScript examples, each compiled as its own TypeScript module under --strict against the
// installed declarations: in a page (lib DOM), and the worker example (its first line `// worker.js`) in a module
// worker's configuration (lib WebWorker, no DOM). What the snippets take as given is declared in
// readme-globals.d.ts.
const README_GLOBALS = `import type { Styler } from 'vitrine';
declare global {
  const styler: Styler;
  const imageData: ImageData;
  const photo: ImageData;
  const ctx: CanvasRenderingContext2D;
  const img: HTMLImageElement;
  const artworkImg: HTMLImageElement;
  function showHint(message: string): void;
}
export {};
`;

function checkReadmeTypeScript(app, tsc) {
  const readme = readFileSync(join(app, 'node_modules', 'vitrine', 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```(js|ts)\n([\s\S]*?)^```$/gm)].map(([, , code]) => code);
  const workerBlocks = blocks.filter((code) => code.startsWith('// worker.js'));
  check(blocks.length >= 5 && workerBlocks.length >= 1, 'the package README has JavaScript examples, one of them for a worker', `${blocks.length} blocks, ${workerBlocks.length} for a worker`);
  const dir = join(app, 'readme');
  mkdirSync(join(dir, 'page'), { recursive: true });
  mkdirSync(join(dir, 'worker'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(join(dir, 'page', 'readme-globals.d.ts'), README_GLOBALS);
  blocks.filter((code) => !workerBlocks.includes(code)).forEach((code, i) => writeFileSync(join(dir, 'page', `example${i}.ts`), `${code}export {};\n`));
  workerBlocks.forEach((code, i) => writeFileSync(join(dir, 'worker', `example${i}.ts`), `${code}export {};\n`));
  const configs = {
    page: ['--lib', 'es2022,dom,dom.iterable'],
    worker: ['--lib', 'es2022,webworker'],
  };
  for (const [name, lib] of Object.entries(configs)) {
    const files = readdirSync(join(dir, name)).map((f) => join(name, f));
    try {
      execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext',
        '--moduleResolution', 'nodenext', ...lib, ...files], { cwd: dir, encoding: 'utf8' });
      check(true, `the README's examples compile under strict TypeScript in a ${name} configuration (${lib[1]})`, `${files.length} files`);
    } catch (error) {
      check(false, `the README's examples compile under strict TypeScript in a ${name} configuration (${lib[1]})`, `${error.stdout ?? ''}${error.stderr ?? ''}`);
    }
  }
}

// package.json as a registry and a bundler read it, and the error codes the Rust side makes, each declared.
function checkManifest(installed) {
  for (const field of ['repository', 'homepage', 'bugs', 'keywords', 'sideEffects']) {
    check(installed[field] !== undefined, `package.json has ${field}`, JSON.stringify(installed[field]));
  }
  check(Array.isArray(installed.sideEffects) && installed.sideEffects.every((f) => /element\.js$/.test(f)),
    'package.json: only the element entry has side effects', JSON.stringify(installed.sideEffects));
  check(installed.exports?.['./presets']?.default === './presets.js', 'the exports map has the presets-only entry');
  const declarations = readFileSync(join(pkgDir, 'vitrine.d.ts'), 'utf8');
  const rust = ['error.rs', 'options.rs'].map((f) => readFileSync(join(root, 'src', 'web', f), 'utf8')).join('\n');
  const codes = [...new Set([...rust.matchAll(/"([A-Z][A-Z_]{3,})"/g)].map(([, code]) => code))];
  const undeclared = codes.filter((code) => !declarations.includes(`| '${code}'`));
  check(codes.length >= 10 && undeclared.length === 0, 'every error code of the bindings is in the declared ErrorCode', `${codes.length} codes; undeclared: ${undeclared.join(' ')}`);
  return codes;
}

async function inBrowser(url, flags, body) {
  const browser = await launchChromium({ args: flags });
  try {
    const page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') console.log(`  [page ${message.type()}] ${message.text()}`);
    });
    page.on('pageerror', (error) => console.log(`  [page error] ${error.message}`));
    await page.goto(url);
    await page.waitForFunction(() => window.vitrineReady === true, null, { timeout: 60_000 });
    return await body(page);
  } finally {
    await browser.close();
  }
}

// The wasm tests' WebDriver configuration keeps Chromium off the network with the same flags as every other test.
function checkWebdriverIsolation() {
  const args = JSON.parse(readFileSync(join(root, 'www', 'webdriver.json'), 'utf8'))['goog:chromeOptions'].args;
  const missing = ISOLATION.filter((flag) => !args.includes(flag));
  check(missing.length === 0, 'www/webdriver.json carries every isolation flag of tests/support/browser.mjs', missing.join(' '));
}

async function main() {
  checkWebdriverIsolation();
  const fixture = readFixture();
  const arbitrary = readArbitrary();
  pack();
  const server = await serve({ root: app });
  const results = {};
  try {
    // Chromium with WebGPU (SwiftShader): both backends, and 'auto' passing over the software adapter.
    await inBrowser(server.url, ['--enable-unsafe-webgpu'], async (page) => {
      for (const backend of ['webgpu', 'cpu']) {
        const report = await page.evaluate((b) => window.vitrineTest.run(b, b === 'cpu'), backend);
        results[backend] = report;
        check(report.backend === backend, `backend '${backend}' runs on ${backend}`, `${report.backend}, created in ${report.createMs.toFixed(0)} ms`);
        // SwiftShader offers no shader-f16, so WebGPU stores f32 as the CPU path does.
        check(report.precision === 'f32', `backend '${backend}' reports precision f32`, report.precision);
        const stages = report.stages.filter((s, i) => s !== report.stages[i - 1]).join();
        check(stages === 'wasm,model,backend,ready', `onProgress reports each stage (${backend})`, report.stages.join());
        for (const { name, style, psnr_int8_vs_fp32_db: int8 } of fixture.cases) {
          const r = report.results[name];
          const quality = psnr(r.data, fixture.expected(name), fixture.width, fixture.height);
          check(r.isImageData && r.width === fixture.width && r.height === fixture.height, `${backend} ${name}: an ImageData of the input's size`);
          check(quality >= MIN_PSNR_DB, `${backend} ${name} (style ${JSON.stringify(style)}) vs onnxruntime fp32`,
            `${quality.toFixed(2)} dB (>= ${MIN_PSNR_DB}; int8 weights alone: ${int8} dB), ${r.ms.toFixed(0)} ms`);
          check(r.data.every((v, i) => i % 4 !== 3 || v === 255), `${backend} ${name}: alpha kept`);
        }
      }
      const loss = results.webgpu.afterLoss;
      check(loss?.lost && loss.backend === 'webgpu' && loss.same, 'after a lost GPU device the next call recreates it, same image', JSON.stringify(loss));
      for (const { name } of fixture.cases) {
        const a = results.webgpu.results[name].data;
        const b = results.cpu.results[name].data;
        const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
        check(worst <= MAX_GPU_CPU_LEVELS, `webgpu vs cpu ${name}`, `max difference ${worst} of 255`);
      }
      const { checks } = results.cpu;
      check(checks.styleCount === 26 && checks.style19?.id === 19 && checks.style19?.name, 'styler.styles lists 26 styles with names', JSON.stringify(checks.style19));
      check(checks.thumbnailStatus === 200, 'thumbnails are served from the package', String(checks.thumbnailStatus));
      for (const kind of ['imageBitmap', 'canvas', 'offscreenCanvas', 'imageElement']) {
        check(checks[kind] === true, `an ${kind} styles as its ImageData does`);
      }
      check(checks.strengthZeroIsThePhoto, 'strength 0 returns the photo');
      check(checks.maxSizeKeepsSizeAndAlpha, 'maxSize styles smaller and returns the input size and alpha');
      check(checks.finishMatchesStylize, 'finish re-blends a full-strength result as stylize would: within one level for a whole frame, two for a composited one',
        `this crop with background 'auto': ${JSON.stringify(checks.plainBackground)}`);
      check(checks.queue === 'rejected,fulfilled', 'queued calls settle in order after a failing one', checks.queue);
      const expectedCodes = {
        styleIndex: 'STYLE_INDEX', styleWeights: 'STYLE_WEIGHTS', strength: 'STRENGTH', tooSmall: 'IMAGE_TOO_SMALL',
        badImage: 'BAD_IMAGE', maxSize: 'BAD_OPTION', backend: 'BAD_OPTION', modelFormat: 'MODEL_FORMAT',
        modelFetch: 'MODEL_FETCH', freed: 'FREED', finishSize: 'BAD_IMAGE',
      };
      for (const [what, code] of Object.entries(expectedCodes)) {
        check(checks.errors[what] === code, `error ${what} is thrown with code ${code}`, checks.errors[what]);
      }
      const auto = await page.evaluate(() => window.vitrineTest.run('auto', false));
      check(auto.backend === 'cpu' && /software/.test(auto.fallbackReason ?? ''), "'auto' passes over SwiftShader (a fallback adapter) to the CPU",
        `${auto.backend}: ${auto.fallbackReason}`);
      for (const what of ['vectorVersion', 'vectorNaN']) {
        check(checks.errors[what] === 'STYLE_VECTOR', `error ${what} is thrown with code STYLE_VECTOR`, checks.errors[what]);
      }
      // Everything so far used presets only (with bad style vectors among them): no arbitrary-style model came down.
      const presetsOnly = await page.evaluate(() => window.vitrineTest.modelsFetched());
      check(presetsOnly.length > 0 && presetsOnly.every((name) => !VECTOR_MODELS.includes(name)),
        'a presets-only session fetches neither arbitrary-style model', [...new Set(presetsOnly)].join());

      // free() during calls, on both backends; a GPU call that never settles, on WebGPU.
      for (const backend of ['cpu', 'webgpu']) {
        const faults = await page.evaluate(([b, ms]) => window.vitrineTest.faults(b, ms), [backend, GPU_TIMEOUT_MS]);
        const f = faults.free;
        check(faults.createdOn === backend && f.first === true && f.second === true,
          `${backend}: calls made before free() finish with their images`, JSON.stringify({ first: f.first, second: f.second }));
        check(f.late === 'FREED' && f.lateIsVitrineError, `${backend}: a call after free() rejects with a FREED VitrineError`, f.late);
        check([f.tilePlan, f.styleFromImage, f.finish, f.simulateDeviceLoss].every((c) => c === 'FREED'),
          `${backend}: tilePlan, styleFromImage, finish and simulateDeviceLoss after free() say FREED`, JSON.stringify(f));
        check(f.freshStylerSame, `${backend}: a new Styler after a freed one paints the same image`);
        if (backend !== 'webgpu') continue;
        const t = faults.timeout;
        check(t.code === 'GPU_FAILED' && t.isVitrineError && /gpuTimeout/.test(t.message) && t.ms >= faults.gpuTimeout && t.ms < faults.gpuTimeout + MAX_TIMEOUT_LATENESS_MS,
          `webgpu: a GPU readback that never settles ends with GPU_FAILED after gpuTimeout (${faults.gpuTimeout?.toFixed(0)} ms)`, `${t.code} after ${t.ms?.toFixed(0)} ms (a warm call: ${faults.warmMs?.toFixed(0)} ms): ${t.message}`);
        check(t.againCode === 'GPU_FAILED', 'webgpu: the next call opens a new device, and times out too while the GPU still does not answer', t.againCode);
        check(t.recovered === true && t.backend === 'webgpu', 'webgpu: once the GPU answers again, the next call paints the same image on a new device', JSON.stringify(t.recovered));
        check(t.freeDuringHang === 'no error' && t.hungThenFreed === 'GPU_FAILED' && t.afterFree === 'FREED',
          'webgpu: free() during a hung call throws nothing; the call ends GPU_FAILED, the next says FREED', JSON.stringify({ free: t.freeDuringHang, call: t.hungThenFreed, after: t.afterFree }));
        const auto = faults.auto;
        check(auto.startedOn === 'webgpu' && auto.code === 'GPU_FAILED' && /styles on the CPU/.test(auto.message ?? ''),
          "'auto' on a GPU taken for hardware: a hung call ends GPU_FAILED, saying the next styles on the CPU", `${auto.startedOn}: ${auto.code}: ${auto.message}`);
        check(auto.backend === 'cpu' && /gpuTimeout/.test(auto.fallbackReason ?? '') && auto.sameAsCpu === true,
          "'auto': the next call runs on the CPU, fallbackReason says why, and the image is the CPU path's", `${auto.backend}: ${auto.fallbackReason}; ${JSON.stringify(auto.sameAsCpu)}`);
        check(Object.values(t.options).every((c) => c === 'BAD_OPTION'), 'gpuTimeout: zero, negative, text and NaN are refused with BAD_OPTION', JSON.stringify(t.options));
      }

      // Style vectors: the CPU path with every API check, then WebGPU (SwiftShader), pixel for pixel against it.
      const vectors = {};
      for (const backend of ['cpu', 'webgpu']) {
        vectors[backend] = await page.evaluate(([b, data]) => window.vitrineTest.vectors(b, data, b === 'cpu'), [backend, arbitrary.page]);
        checkVectors(backend, vectors[backend], arbitrary);
      }
      for (const what of ['full', 'half']) {
        const a = vectors.webgpu[what];
        const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - vectors.cpu[what][i])), 0);
        check(worst <= MAX_GPU_CPU_LEVELS, `vectors: webgpu vs cpu, ${what === 'full' ? 'full strength' : 'strength 0.5'}`, `max difference ${worst} of 255`);
      }
      const v = vectors.cpu.checks;
      check(v.jsonRoundTrip, 'a style vector through JSON.stringify and JSON.parse paints the same image');
      check(v.float32Array, 'a style vector as a Float32Array paints the same image');
      check(v.blendOfOne && v.blendOfTwo, '{ vectors: [...] } blends style vectors by normalised weight', JSON.stringify({ one: v.blendOfOne, two: v.blendOfTwo }));
      check(v.maxSizeKeepsSizeAndAlpha, 'a style vector with maxSize returns the input size and alpha');
      check(v.presetAfterVector, 'presets still paint after style vectors');
      for (const [what, code] of Object.entries({
        length: 'STYLE_VECTOR', nan: 'STYLE_VECTOR', infinity: 'STYLE_VECTOR', text: 'STYLE_VECTOR', version: 'STYLE_VECTOR',
        format: 'STYLE_VECTOR', model: 'STYLE_VECTOR', noVector: 'STYLE_VECTOR', blendWeights: 'STYLE_VECTOR',
        blendEmpty: 'STYLE_VECTOR', blendLengths: 'STYLE_VECTOR', strength: 'STRENGTH', styleFromImage: 'BAD_IMAGE',
        transformModel: 'BAD_OPTION', freed: 'FREED',
      })) {
        check(v.errors[what] === code, `bad style vector (${what}) is thrown with code ${code}`, v.messages[what] ?? v.errors[what]);
      }
    });

    // background: every mode on the CPU path with maxSize, finish and bad modes; auto on WebGPU (SwiftShader).
    await inBrowser(server.url, ['--enable-unsafe-webgpu'], async (page) => {
      for (const backend of ['cpu', 'webgpu']) {
        const report = await page.evaluate((b) => window.vitrineTest.backdrop(b, b === 'cpu'), backend);
        checkBackdrop(backend, report, backend === 'cpu');
      }
    });

    // tileSize: the same photo whole and in 16 tiles, on the CPU path (a preset and a style vector), then on WebGPU
    // (SwiftShader, a preset: the slowest part of this test, about 8x a whole run's work at ~0.4 GFLOP/s).
    await inBrowser(server.url, ['--enable-unsafe-webgpu'], async (page) => {
      for (const [backend, styles] of [['cpu', [19, arbitrary.page.vector]], ['webgpu', [19]]]) {
        const started = Date.now();
        const report = await page.evaluate(([b, s]) => window.vitrineTest.tiles(b, s, b === 'cpu'), [backend, styles]);
        checkTiles(backend, report, Date.now() - started);
      }
    });

    // Chromium without WebGPU: 'auto' runs on the CPU with the same result, 'webgpu' says why it cannot.
    await inBrowser(server.url, [], async (page) => {
      const auto = await page.evaluate(() => window.vitrineTest.run('auto', false));
      check(auto.backend === 'cpu', "without WebGPU, 'auto' reports 'cpu'", `${auto.backend}: ${auto.fallbackReason}`);
      for (const { name } of fixture.cases) {
        const same = auto.results[name].data.every((v, i) => v === results.cpu.results[name].data[i]);
        const quality = psnr(auto.results[name].data, fixture.expected(name), fixture.width, fixture.height);
        check(same, `without WebGPU, 'auto' gives the same ${name} image`, `${quality.toFixed(2)} dB vs onnxruntime`);
      }
      const code = await page.evaluate(() => window.vitrineTest.errorOf('webgpu'));
      check(code === 'GPU_UNAVAILABLE', "without WebGPU, 'webgpu' throws GPU_UNAVAILABLE", code);
    });
  } finally {
    await new Promise((done) => server.server.close(done));
  }
}

await finish(main);
