// Assembles the npm package in www/pkg from wasm-bindgen's output (already through wasm-opt), the JS wrapper and
// its declarations, the preset model and its thumbnails, and the arbitrary-style pair (fetched only when used). Usage: node www/lib/build.mjs <bindgen-dir> <out-dir>
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const lib = dirname(fileURLToPath(import.meta.url));
const root = resolve(lib, '..', '..');
const [bindgen, out] = process.argv.slice(2).map((p) => resolve(p));
if (!bindgen || !out) {
  console.error('usage: node www/lib/build.mjs <bindgen-dir> <out-dir>');
  process.exit(2);
}

const cargo = readFileSync(join(root, 'Cargo.toml'), 'utf8');
const field = (name) => cargo.match(new RegExp(`^${name} = "([^"]*)"`, 'm'))?.[1];
const manifest = JSON.parse(readFileSync(join(root, 'models', 'manifest.json'), 'utf8'));

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const file of ['vitrine_wasm.js', 'vitrine_wasm_bg.wasm']) copyFileSync(join(bindgen, file), join(out, file));
for (const file of ['vitrine.js', 'vitrine.d.ts', 'README.md']) copyFileSync(join(lib, file), join(out, file));
copyFileSync(join(root, 'models', manifest.model), join(out, manifest.model));
// The arbitrary-style transformer and its style predictor: vitrine.js fetches them next to itself on first use.
const vectorModels = ['arbitrary_transform.vitrine.safetensors', 'arbitrary_predict.vitrine.safetensors'];
for (const file of vectorModels) copyFileSync(join(root, 'models', file), join(out, file));
cpSync(join(root, 'models', 'thumbnails'), join(out, 'thumbnails'), { recursive: true });
copyFileSync(join(root, 'models', 'NOTICE'), join(out, 'NOTICE'));
copyFileSync(join(root, 'models', 'LICENSE-weights'), join(out, 'LICENSE-weights'));

const pkg = {
  name: 'vitrine',
  version: field('version'),
  description: field('description'),
  license: field('license'),
  type: 'module',
  main: './vitrine.js',
  module: './vitrine.js',
  types: './vitrine.d.ts',
  exports: {
    '.': { types: './vitrine.d.ts', default: './vitrine.js' },
    [`./${manifest.model}`]: `./${manifest.model}`,
    ...Object.fromEntries(vectorModels.map((file) => [`./${file}`, `./${file}`])),
    './vitrine_wasm_bg.wasm': './vitrine_wasm_bg.wasm',
    './thumbnails/*': './thumbnails/*',
    './package.json': './package.json',
  },
  files: ['vitrine.js', 'vitrine.d.ts', 'vitrine_wasm.js', 'vitrine_wasm_bg.wasm', manifest.model, ...vectorModels, 'thumbnails/', 'README.md', 'NOTICE', 'LICENSE-weights'],
  sideEffects: false,
  keywords: ['style-transfer', 'webgpu', 'wasm', 'image', 'product-photos'],
};
writeFileSync(join(out, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
console.log(`www/pkg: vitrine ${pkg.version} assembled in ${out}`);
