// Soak: the packed package in headless Chromium takes SOAK_CALLS calls (default 1000) on the CPU path and on
// SwiftShader's WebGPU, mixing presets, mixes, weight vectors, style files, blends, strengths and small streamed
// runs (tests/soak/page.js). Every 50 calls it records wasm memory, the JS heap after a forced collection (CDP
// HeapProfiler.collectGarbage, then Runtime.getHeapUsage, with the backing stores of ArrayBuffers, where pixels
// live) and the live GPU buffers, and it asserts that each is
// flat from call 50 (the warm-up) to the last call, within the bounds below.
//
//   node tests/soak/run.mjs                      (after `make web`; make soak-test)
//   SOAK_CALLS=5000 SOAK_SIDE=64 node tests/soak/run.mjs   (make soak)
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../../www/serve.mjs';
import { launchChromium, writeShopPage } from '../support/browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const work = join(root, 'target', 'soak');
const app = join(work, 'app');
const CALLS = Number(process.env.SOAK_CALLS ?? 1000);
const SIDE = Number(process.env.SOAK_SIDE ?? 16);
const BACKENDS = (process.env.SOAK_BACKENDS ?? 'cpu,webgpu').split(',');
const CHUNK = 50;
const WARM_UP = 50;
// Bounds from call 50 to the last. wasm memory grows in 64 KiB pages and never shrinks; it did not move at all in
// 950 calls, and 256 KiB is a leak of under 300 bytes a call. The JS heap after a forced collection (with backing
// stores) moved by 0.1 MiB; keeping every 16 px result (about 1 KB each) added 0.86 MiB, so 512 KiB catches that.
// Live GPU buffers must not grow at all (the executor's plan cache holds a fixed set per image size).
const MAX_WASM_GROWTH = 256 << 10;
const MAX_HEAP_GROWTH = 512 << 10;
const MAX_GPU_BUFFER_GROWTH = 0;

let failed = 0;
function check(ok, what, detail = '') {
  if (!ok) failed += 1;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
}

// npm pack www/pkg and install the tarball in a scratch app, as a shop would (tests/package/run.mjs does the same).
function pack() {
  const pkgDir = join(root, 'www', 'pkg');
  if (!existsSync(join(pkgDir, 'package.json'))) throw new Error('www/pkg is not built: run `make web` first');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(app, { recursive: true });
  const [packed] = JSON.parse(execFileSync('npm', ['pack', pkgDir, '--pack-destination', work, '--json'], { encoding: 'utf8' }));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'soak-app', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(work, packed.filename)], { cwd: app, stdio: 'ignore' });
  const installed = JSON.parse(readFileSync(join(app, 'node_modules', 'vitrine', 'package.json'), 'utf8'));
  writeShopPage(app, 'soak', installed.exports['.'].default);
  copyFileSync(join(here, 'page.js'), join(app, 'page.js'));
}

const mib = (bytes) => `${(bytes / (1 << 20)).toFixed(2)} MiB`;

async function soak(url, backend, brand) {
  const browser = await launchChromium({ webgpu: backend === 'webgpu' });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (error) => console.log(`  [page error] ${error.message}`));
    page.on('console', (m) => m.type() === 'error' && console.log(`  [page error] ${m.text()}`));
    await page.goto(url);
    await page.waitForFunction(() => window.soakReady === true, null, { timeout: 60_000 });
    const cdp = await page.context().newCDPSession(page);
    const opened = await page.evaluate(([b, s, f]) => window.soak.open(b, s, f), [backend, SIDE, brand]);
    check(opened.backend === backend && opened.tiledBackend === backend, `${backend}: both Stylers run on ${backend}`, JSON.stringify(opened));
    const samples = [];
    const kinds = {};
    const started = Date.now();
    for (let done = 0; done < CALLS; done += CHUNK) {
      const count = Math.min(CHUNK, CALLS - done);
      const ran = await page.evaluate(([from, n]) => window.soak.calls(from, n), [done, count]);
      for (const [kind, n] of Object.entries(ran.kinds)) {
        kinds[kind] ??= { calls: 0, ms: 0 };
        kinds[kind].calls += n;
        kinds[kind].ms += ran.ms[kind];
      }
      await cdp.send('HeapProfiler.collectGarbage');
      await page.evaluate(() => window.soak.settle());
      await cdp.send('HeapProfiler.collectGarbage');
      // The JS heap with the ArrayBuffer backing stores it keeps alive (pixels, fetched models), and Blink's own.
      const { usedSize, backingStorageSize = 0, embedderHeapUsedSize = 0 } = await cdp.send('Runtime.getHeapUsage');
      const sample = await page.evaluate(() => window.soak.sample());
      samples.push({ call: done + count, heapBytes: usedSize + backingStorageSize, blinkBytes: embedderHeapUsedSize, ...sample });
    }
    const seconds = (Date.now() - started) / 1000;
    const at = (call) => samples.find((s) => s.call >= call);
    const warm = at(WARM_UP);
    const last = samples[samples.length - 1];
    const mix = Object.entries(kinds).map(([k, { calls, ms }]) => `${calls} ${k} (${(ms / calls).toFixed(0)} ms)`);
    console.log(`     ${backend}: ${CALLS} calls of ${SIDE} px in ${seconds.toFixed(0)} s: ${mix.join(', ')}`);
    console.log(`     ${backend}: call ${warm.call}: wasm ${mib(warm.wasmBytes)}, JS heap ${mib(warm.heapBytes)} (Blink ${mib(warm.blinkBytes)}), GPU buffers ${warm.gpuBuffers} (${mib(warm.gpuBytes)})`);
    console.log(`     ${backend}: call ${last.call}: wasm ${mib(last.wasmBytes)}, JS heap ${mib(last.heapBytes)} (Blink ${mib(last.blinkBytes)}), GPU buffers ${last.gpuBuffers} (${mib(last.gpuBytes)}), ${last.gpuCreated} created in all`);
    const peak = (key) => Math.max(...samples.filter((s) => s.call >= WARM_UP).map((s) => s[key]));
    check(last.wasmBytes - warm.wasmBytes <= MAX_WASM_GROWTH, `${backend}: wasm memory flat from call ${warm.call} to ${last.call}`,
      `${mib(warm.wasmBytes)} -> ${mib(last.wasmBytes)} (bound +${mib(MAX_WASM_GROWTH)})`);
    check(last.heapBytes - warm.heapBytes <= MAX_HEAP_GROWTH, `${backend}: JS heap after collection flat from call ${warm.call} to ${last.call}`,
      `${mib(warm.heapBytes)} -> ${mib(last.heapBytes)}, peak ${mib(peak('heapBytes'))} (bound +${mib(MAX_HEAP_GROWTH)})`);
    if (backend === 'webgpu') {
      check(warm.gpuCreated > 0, 'webgpu: the page sees the GPU buffers vitrine creates', `${warm.gpuCreated} created by call ${warm.call}`);
      check(last.gpuBuffers - warm.gpuBuffers <= MAX_GPU_BUFFER_GROWTH, `webgpu: live GPU buffers flat from call ${warm.call} to ${last.call}`,
        `${warm.gpuBuffers} -> ${last.gpuBuffers}, peak ${peak('gpuBuffers')} (bound +${MAX_GPU_BUFFER_GROWTH})`);
    }
    return { backend, calls: CALLS, side: SIDE, seconds, kinds, samples };
  } finally {
    await browser.close();
  }
}

async function main() {
  pack();
  const brand = JSON.parse(readFileSync(join(root, 'www', 'samples', 'brand-style.json'), 'utf8'));
  const { server, url } = await serve({ root: app });
  const figures = [];
  try {
    for (const backend of BACKENDS) figures.push(await soak(url, backend, brand));
  } finally {
    await new Promise((done) => server.close(done));
  }
  writeFileSync(join(work, 'figures.json'), `${JSON.stringify(figures, null, 1)}\n`);
  console.log(`figures: ${join(work, 'figures.json')}`);
  if (failed) {
    console.log(`${failed} soak check(s) failed`);
    process.exit(1);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
