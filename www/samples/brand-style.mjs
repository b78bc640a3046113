#!/usr/bin/env node
// Computes a picture's style vector with the browser package, in headless Chromium on the CPU path, and writes it
// as a style file (the JSON `styler.styleFromImage` returns). The demo's house style, www/samples/brand-style.json,
// is made with it from www/samples/atelier-glaze.png:
//
//   make web && node www/samples/brand-style.mjs www/samples/atelier-glaze.png -o www/samples/brand-style.json
//
// The page is served from 127.0.0.1 only; nothing else is reached.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../serve.mjs';

const www = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outAt = args.indexOf('-o');
const out = outAt >= 0 ? args.splice(outAt, 2)[1] : null;
const picture = args[0];
if (!picture || !out) {
  console.error('usage: node www/samples/brand-style.mjs PICTURE -o STYLE.json');
  process.exit(2);
}
const { chromium } = createRequire(path.join(www, 'package.json'))('playwright-core');

const server = await serve({ root: www });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-quic', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}pkg/package.json`);
  const style = await page.evaluate(async ({ data, type }) => {
    const { Styler } = await import('/pkg/vitrine.js');
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type }), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    const styler = await Styler.create({ backend: 'cpu' });
    return styler.styleFromImage(bitmap);
  }, { data: readFileSync(picture).toString('base64'), type: picture.endsWith('.png') ? 'image/png' : 'image/jpeg' });
  writeFileSync(out, `${JSON.stringify(style)}\n`);
  console.log(`wrote ${out}: the style of ${picture} (${style.vector.length} numbers)`);
} finally {
  await browser.close();
  server.server.close();
}
