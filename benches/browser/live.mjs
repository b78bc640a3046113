// Live frames benchmark: frames per second and per-frame latency of `styler.live` in headless Chromium (WebGPU on
// SwiftShader), the still path (each frame through `stylize`, read back and put into a 2D canvas) against the frame
// path (the frame stays on the GPU and is drawn into the canvas's WebGPU context), same page, same frames, same run;
// and the CPU path for reference. The working size is fixed per row (minSide = maxSide), frames are pushed one after
// another as soon as the last is drawn (nothing dropped), and the last frame is read back into a PNG so GPU work
// still queued counts.
//
//   node benches/browser/live.mjs [--sizes 64,128] [--frames 12] [--warmup 3] [--rounds 3] [--json FILE]
//
// Each size runs `rounds` rounds of the three sessions in turn (still, frame, CPU), so a change in the machine's
// load falls on every path alike; each figure is the median over the rounds.
//
// Needs www/pkg (`make web`); no other dependency.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, writeShopPage } from '../../tests/support/browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const app = path.join(repo, 'target', 'bench-live');
const { serve } = await import(path.join(repo, 'www', 'serve.mjs'));

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const sizes = option('sizes', '64,128').split(',').map(Number);
const frames = Number(option('frames', 12));
const warmup = Number(option('warmup', 3));
const jsonOut = option('json', null);
const rounds = Number(option('rounds', 3));
const middle = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// The page: one Styler per backend; per row, `count` frames of side x side*3/4 pushed one at a time.
const PAGE = `import { Styler } from 'vitrine';
const stylers = {};
window.bench = async (backend, path, side, count, warmup) => {
  stylers[backend] ??= await Styler.create({ backend });
  const styler = stylers[backend];
  const height = Math.round(side * 3 / 4 / 4) * 4;
  const source = Object.assign(document.createElement('canvas'), { width: side, height });
  const ctx = source.getContext('2d');
  const bitmaps = [];
  for (let i = 0; i <= warmup + count; i += 1) {
    const g = ctx.createLinearGradient(0, 0, side, height);
    g.addColorStop(0, 'hsl(' + i * 29 + ' 70% 50%)');
    g.addColorStop(1, 'hsl(' + (i * 29 + 150) + ' 60% 30%)');
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, side, height);
    bitmaps.push(await createImageBitmap(source));
  }
  const canvas = document.createElement('canvas');
  document.body.append(canvas);
  const live = await styler.live(bitmaps[0], canvas, { style: 19, minSide: side, maxSide: side, path });
  await live.firstFrame;
  for (let i = 1; i < warmup; i += 1) await live.push(bitmaps[i]);
  const latencies = [];
  const started = performance.now();
  for (let i = warmup; i < warmup + count; i += 1) {
    const t = performance.now();
    await live.push(bitmaps[i]);
    latencies.push(performance.now() - t);
  }
  const snapshot = live.snapshot();
  live.push(bitmaps[warmup + count]);
  await snapshot;
  const seconds = (performance.now() - started) / 1000;
  const stats = live.stats;
  await live.stop();
  canvas.remove();
  latencies.sort((a, b) => a - b);
  // pushMs: how long each push took to resolve (the frame time the page sees); latencyMs: capture to on the
  // canvas, the GPU's own time included (live.stats).
  return { backend: styler.backend, path: stats.path, width: stats.width, height: stats.height, fps: (count + 1) / seconds,
    pushMs: latencies[Math.floor(latencies.length / 2)], latencyMs: stats.latencyMs, readbacks: stats.readbacks, shown: stats.framesShown };
};
window.benchReady = true;
`;

function stage() {
  const pkg = path.join(repo, 'www', 'pkg');
  if (!existsSync(path.join(pkg, 'vitrine.js'))) throw new Error('www/pkg is not built: run `make web` first');
  rmSync(app, { recursive: true, force: true });
  mkdirSync(path.join(app, 'node_modules'), { recursive: true });
  cpSync(pkg, path.join(app, 'node_modules', 'vitrine'), { recursive: true });
  writeShopPage(app, 'live bench', './vitrine.js');
  writeFileSync(path.join(app, 'page.js'), PAGE);
}

stage();
const { server, url } = await serve({ root: app });
const browser = await launchChromium({ webgpu: true });
const rows = [];
try {
  const page = await browser.newPage();
  page.on('pageerror', (error) => console.log(`  [page error] ${error.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.benchReady === true);
  const version = browser.version();
  console.log(`live frames, headless Chromium ${version} (WebGPU on SwiftShader), ${frames} frames after ${warmup} of warm-up, median of ${rounds} rounds`);
  console.log('backend  path    size      fps   latency (median)  push (median)  readbacks');
  for (const side of sizes) {
    const row = { side };
    const sessions = [['webgpu', 'still'], ['webgpu', 'frame'], ['cpu', 'still']];
    const runsOf = Object.fromEntries(sessions.map(([b, p]) => [`${b}-${p}`, []]));
    for (let round = 0; round < rounds; round += 1) {
      for (const [backend, pathName] of sessions) {
        runsOf[`${backend}-${pathName}`].push(await page.evaluate(([b, p, s, n, w]) => window.bench(b, p, s, n, w), [backend, pathName, side, frames, warmup]));
      }
    }
    for (const [key, results] of Object.entries(runsOf)) {
      const [first] = results;
      const result = { ...first, fps: middle(results.map((r) => r.fps)), latencyMs: middle(results.map((r) => r.latencyMs)),
        pushMs: middle(results.map((r) => r.pushMs)), readbacks: Math.max(...results.map((r) => r.readbacks)), rounds: results.map((r) => r.fps) };
      row[key] = result;
      console.log(`${first.backend.padEnd(8)} ${first.path.padEnd(7)} ${`${first.width}x${first.height}`.padEnd(8)} ${result.fps.toFixed(2).padStart(6)}   ${result.latencyMs.toFixed(0).padStart(6)} ms         ${result.pushMs.toFixed(0).padStart(6)} ms    ${result.readbacks}   (fps by round: ${result.rounds.map((f) => f.toFixed(2)).join(' ')})`);
    }
    row.ratio = row['webgpu-frame'].fps / row['webgpu-still'].fps;
    console.log(`  ${side} px: the frame path runs ${row.ratio.toFixed(2)}x the still path's frame rate on WebGPU`);
    rows.push(row);
  }
} finally {
  await browser.close();
  server.close();
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(rows, null, 2));
