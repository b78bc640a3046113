// What every headless-Chromium test and benchmark shares: the flags that keep the browser off every network but
// 127.0.0.1, the flags for SwiftShader's WebGPU, and PSNR over 8-bit pixels. `www/webdriver.json` (the wasm tests'
// WebDriver configuration) repeats ISOLATION, and tests/package/run.mjs checks that the two agree.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Chromium kept off the network: only 127.0.0.1 resolves, and nothing phones home at start. */
export const ISOLATION = [
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--disable-dev-shm-usage',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

/** WebGPU on SwiftShader, the software adapter every machine here has. */
export const WEBGPU = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan,CDPScreenshotNewSurface,SkipListAccountsWithoutGaiaCookies',
  '--use-vulkan=swiftshader',
  '--use-angle=swiftshader',
];

/** playwright-core, pinned by www/package-lock.json. */
export function playwright() {
  return createRequire(path.join(repo, 'www', 'package.json'))('playwright-core');
}

/** Debian's Chromium (or $CHROMIUM), isolated, with or without WebGPU. */
export async function launchChromium({ webgpu = false, args = [] } = {}) {
  const { chromium } = playwright();
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [...ISOLATION, ...(webgpu ? WEBGPU : []), ...args],
  });
}

/** PSNR in dB over the RGB channels of two RGBA8 buffers of one size (Infinity when equal). */
export function psnrRgba(a, b) {
  if (a.length !== b.length) throw new Error(`sizes differ: ${a.length} vs ${b.length} bytes`);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i += 4) {
    for (let c = 0; c < 3; c += 1) {
      const d = a[i + c] - b[i + c];
      sum += d * d;
      n += 1;
    }
  }
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255 * n) / sum);
}

/** PSNR in dB (peak 1) of an RGBA8 result against a planar float RGB network output, clamped to 0..1. */
export function psnrAgainstPlanar(rgba, planar, width, height) {
  const plane = width * height;
  let sum = 0;
  for (let i = 0; i < plane; i += 1) {
    for (let c = 0; c < 3; c += 1) {
      const d = rgba[i * 4 + c] / 255 - Math.min(1, Math.max(0, planar[c * plane + i]));
      sum += d * d;
    }
  }
  return sum === 0 ? Infinity : 10 * Math.log10((3 * plane) / sum);
}

/**
 * The checks of one test script: `check(ok, what, detail)` prints and counts each, `finish(main)` runs the script
 * under a watchdog of `timeoutMs`, counts an exception as a failed check, prints the closing "N passed, N failed"
 * line and exits 0 only when something passed and nothing failed.
 */
export function checks(name, timeoutMs) {
  let passed = 0;
  let failed = 0;
  const check = (ok, what, detail = '') => {
    if (ok) passed += 1;
    else failed += 1;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
  };
  const finish = async (main) => {
    const watchdog = setTimeout(() => {
      console.log(`FAIL the ${name} did not finish in ${timeoutMs / 60000} minutes`);
      process.exit(1);
    }, timeoutMs);
    watchdog.unref();
    try {
      await main();
    } catch (error) {
      check(false, `the ${name} ran to the end`, error.stack ?? String(error));
    }
    console.log(`${name}: ${passed} passed, ${failed} failed`);
    process.exit(failed === 0 && passed > 0 ? 0 : 1);
  };
  return { check, finish };
}

/**
 * Writes `app/index.html`: a page titled `title` that runs `./page.js` as a module, with an import map resolving
 * the bare name `vitrine` as a bundler would, through the installed package's exports map (`entry` is its `.`
 * entry, for example `./vitrine.js`).
 */
export function writeShopPage(app, title, entry) {
  const importMap = { imports: { vitrine: `./node_modules/vitrine/${entry.replace(/^\.\//, '')}` } };
  writeFileSync(path.join(app, 'index.html'), `<!doctype html>
<meta charset="utf-8">
<title>${title}</title>
<link rel="icon" href="data:,">
<script type="importmap">${JSON.stringify(importMap)}</script>
<script type="module" src="./page.js"></script>
`);
}
