// Size budgets of the npm package, as a browser downloads it (gzip, level 9, as servers and CDNs compress;
// 1 KB = 1000 bytes). Fails above any budget.
//
// What Styler.create downloads, and so what every page pays: the runtime wasm (at most 400 KB) and the preset
// model (at most 250 KB, and 250 KB raw as well: many servers send binary files uncompressed; its norm tables are f16
// for this, model format version 2). The arbitrary-style pair is loaded lazily, each file only when a page first needs it,
// so each has a budget of its own and neither counts towards the first download: the transformer (fetched with the
// first style vector) at most 200 KB, the style predictor (fetched by the first styleFromImage, or a style vector at
// strength below 1) at most 2500 KB. <vitrine-styler>'s eager script (element.js, which imports nothing until styling
// is wanted) is all of vitrine a product page loads before the shopper reaches for it: at most 10 KB.
//
//   node www/size-budget.mjs [www/pkg]
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const dir = resolve(process.argv[2] ?? 'www/pkg');
const KB = 1000;
const files = readdirSync(dir);
const budgets = [
  { what: 'runtime wasm', pattern: /\.wasm$/, limit: 400 * KB, first: true },
  { what: 'preset model', pattern: /^multistyle26\.vitrine\.safetensors$/, limit: 250 * KB, rawLimit: 250 * KB, first: true },
  { what: 'arbitrary-style transformer (lazy: first style vector)', pattern: /^arbitrary_transform\.vitrine\.safetensors$/, limit: 200 * KB },
  { what: 'style predictor (lazy: first styleFromImage or vector strength < 1)', pattern: /^arbitrary_predict\.vitrine\.safetensors$/, limit: 2500 * KB },
  { what: '<vitrine-styler> eager script (before styling is wanted)', pattern: /^element\.js$/, limit: 10 * KB },
];

let passed = 0;
let failed = 0;
let firstDownload = 0;
const budgeted = new Set();
for (const { what, pattern, limit, rawLimit, first } of budgets) {
  const matches = files.filter((f) => pattern.test(f));
  if (matches.length !== 1) {
    failed += 1;
    console.log(`FAIL ${what}: expected one file in ${dir}, found ${matches.length}`);
    continue;
  }
  budgeted.add(matches[0]);
  const bytes = readFileSync(join(dir, matches[0]));
  const gzipped = gzipSync(bytes, { level: 9 }).length;
  if (first) firstDownload += gzipped;
  const ok = gzipped <= limit && (rawLimit === undefined || bytes.length <= rawLimit);
  if (ok) passed += 1;
  else failed += 1;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what} ${matches[0]}: ${(gzipped / KB).toFixed(1)} KB gzipped ` +
    `(${(bytes.length / KB).toFixed(1)} KB raw), budget ${limit / KB} KB gzipped` +
    (rawLimit === undefined ? '' : ` and ${rawLimit / KB} KB raw`));
}
// Every model in the package must have a budget: a new one cannot slip in unmeasured.
for (const file of files.filter((f) => f.endsWith('.safetensors') && !budgeted.has(f))) {
  failed += 1;
  console.log(`FAIL ${file}: a model file with no budget`);
}
const js = files.filter((f) => f.endsWith('.js'));
const jsGzipped = js.reduce((sum, f) => sum + gzipSync(readFileSync(join(dir, f)), { level: 9 }).length, 0);
console.log(`     JavaScript (${js.join(', ')}): ${(jsGzipped / KB).toFixed(1)} KB gzipped`);
console.log(`     a presets-only page downloads ${((firstDownload + jsGzipped) / KB).toFixed(1)} KB gzipped (wasm, preset model, JavaScript)`);
console.log(`size budget: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
