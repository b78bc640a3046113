// Size budgets of the npm package, as a browser downloads it (gzip, level 9, as servers and CDNs compress):
// the runtime wasm at most 400 KB, the model at most 250 KB (1 KB = 1000 bytes). Fails above either.
//
//   node www/size-budget.mjs [www/pkg]
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const dir = resolve(process.argv[2] ?? 'www/pkg');
const KB = 1000;
const files = readdirSync(dir);
const budgets = [
  { what: 'runtime wasm', pattern: /\.wasm$/, limit: 400 * KB },
  { what: 'model', pattern: /\.safetensors$/, limit: 250 * KB },
];

let passed = 0;
let failed = 0;
for (const { what, pattern, limit } of budgets) {
  const matches = files.filter((f) => pattern.test(f));
  if (matches.length !== 1) {
    failed += 1;
    console.log(`FAIL ${what}: expected one file in ${dir}, found ${matches.length}`);
    continue;
  }
  const bytes = readFileSync(join(dir, matches[0]));
  const gzipped = gzipSync(bytes, { level: 9 }).length;
  const ok = gzipped <= limit;
  if (ok) passed += 1;
  else failed += 1;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what} ${matches[0]}: ${(gzipped / KB).toFixed(1)} KB gzipped ` +
    `(${(bytes.length / KB).toFixed(1)} KB raw), budget ${limit / KB} KB gzipped`);
}
const js = files.filter((f) => f.endsWith('.js'));
const jsGzipped = js.reduce((sum, f) => sum + gzipSync(readFileSync(join(dir, f)), { level: 9 }).length, 0);
console.log(`     JavaScript (${js.join(', ')}): ${(jsGzipped / KB).toFixed(1)} KB gzipped`);
console.log(`size budget: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
