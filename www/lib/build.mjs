// Assembles the npm package in www/pkg from wasm-bindgen's output (already through wasm-opt), the JS wrapper and
// its declarations, the preset model and its thumbnails, and the arbitrary-style pair (fetched only when used).
// It writes thumbnails.js, one `new URL('./thumbnails/NN.jpg', import.meta.url)` per file, so that bundlers (Vite,
// webpack, Rollup) see and emit every thumbnail. Usage: node www/lib/build.mjs <bindgen-dir> <out-dir>
import { copyFileSync, cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

// Numbers and names the JS shares with Rust stay copies where the JS must not load anything to know them (the
// element's eager script, bundlers' `new URL` literals); each copy is held to its Rust source here, so the build
// fails when one drifts.
function rustConst(file, name) {
  const found = readFileSync(join(root, file), 'utf8').match(new RegExp(`^(?:pub(?:\\([a-z]+\\))? )?const ${name}: [^=]+= ([^;]+);`, 'm'));
  if (!found) throw new Error(`build.mjs: ${file} no longer defines ${name}`);
  return found[1].trim();
}
function holdCopy(file, pattern, want, what) {
  const text = readFileSync(join(lib, file), 'utf8');
  const found = text.match(pattern);
  if (!found || found[1] !== String(want)) {
    throw new Error(`build.mjs: ${file} has ${what} ${found ? found[1] : '(none)'}, but Rust says ${want}`);
  }
}
const defaultMaxSize = Number(rustConst('src/pixels.rs', 'DEFAULT_MAX_SIZE'));
const styleFileFormat = JSON.parse(rustConst('src/style.rs', 'STYLE_FILE_FORMAT'));
holdCopy('element.js', /'max-size': (\d+)/, defaultMaxSize, 'the default max-size');
holdCopy('element-ui.js', /format !== '([^']+)'/, styleFileFormat, 'the style-file format');

// The error codes, both ways: the declared ErrorCode union is exactly core.js's CODES (what isVitrineError knows),
// every code the bindings (src/web) or the package's JS can give is declared, and every declared code is one that
// something gives. The element's own codes are its VitrineElementErrorCode union, held the same way.
function holdErrorCodes() {
  const read = (file) => readFileSync(join(lib, file), 'utf8');
  const union = (text, name) => {
    const body = text.match(new RegExp(`export type ${name} =([\\s\\S]*?'[A-Z_]+');`))?.[1];
    if (!body) throw new Error(`build.mjs: the declarations no longer define ${name}`);
    return new Set([...body.matchAll(/\| '([A-Z_]+)'/g)].map(([, code]) => code));
  };
  const declared = union(read('vitrine.d.ts'), 'ErrorCode');
  const element = union(read('element.d.ts'), 'VitrineElementErrorCode');
  const known = new Set([...read('core.js').match(/const CODES = new Set\(\[([^\]]+)\]/)[1].matchAll(/'([A-Z_]+)'/g)].map(([, c]) => c));
  const web = join(root, 'src', 'web');
  const rust = readdirSync(web).filter((f) => f.endsWith('.rs')).map((f) => readFileSync(join(web, f), 'utf8')).join('\n');
  const fromRust = [...rust.matchAll(/"([A-Z][A-Z_]{3,})"/g)].map(([, code]) => code);
  const codesIn = (file, fn) => [...read(file).matchAll(new RegExp(`\\b${fn}\\('([A-Z_]+)'`, 'g'))].map(([, code]) => code);
  const fromPackage = [...codesIn('core.js', 'codedError'), ...codesIn('live.js', 'codedError')];
  const fromElement = [...codesIn('element-ui.js', 'coded'), ...codesIn('element-worker.js', 'coded')];
  const problems = [
    ...[...declared].filter((c) => !known.has(c)).map((c) => `${c} is declared but not in core.js's CODES`),
    ...[...known].filter((c) => !declared.has(c)).map((c) => `${c} is in core.js's CODES but not declared`),
    ...[...fromRust, ...fromPackage].filter((c) => !declared.has(c)).map((c) => `${c} is given but not declared in ErrorCode`),
    ...[...declared].filter((c) => !fromRust.includes(c) && !fromPackage.includes(c)).map((c) => `${c} is declared but nothing gives it`),
    ...fromElement.filter((c) => !declared.has(c) && !element.has(c)).map((c) => `the element gives ${c}, declared in neither union`),
    ...[...element].filter((c) => !fromElement.includes(c)).map((c) => `${c} is in VitrineElementErrorCode but the element never gives it`),
  ];
  if (problems.length) throw new Error(`build.mjs: error codes out of step: ${[...new Set(problems)].join('; ')}`);
}
holdErrorCodes();

// The background modes and the report's names, both ways: the names `Background`, `Applied` and `WholeReason` give
// in src/backdrop/mod.rs are exactly the declared BackgroundMode, BackgroundApplied and BackgroundReason unions, and
// the element's `background` choices are the modes in Rust's order (the first, 'auto', is the default in both).
function holdBackgroundNames() {
  const rust = readFileSync(join(root, 'src', 'backdrop', 'mod.rs'), 'utf8');
  const named = (type) => [...new Set([...rust.matchAll(new RegExp(`\\b${type}::[A-Za-z]+ => "([a-z-]+)"`, 'g'))].map(([, name]) => name))];
  const declarations = readFileSync(join(lib, 'vitrine.d.ts'), 'utf8');
  const union = (name) => {
    const body = declarations.match(new RegExp(`export type ${name} = ([^;]+);`))?.[1];
    if (!body) throw new Error(`build.mjs: vitrine.d.ts no longer defines ${name}`);
    return [...body.matchAll(/'([a-z-]+)'/g)].map(([, value]) => value);
  };
  const problems = [];
  for (const [type, declared] of [['Background', 'BackgroundMode'], ['Applied', 'BackgroundApplied'], ['WholeReason', 'BackgroundReason']]) {
    const rustNames = named(type);
    const declaredNames = union(declared);
    if (rustNames.length === 0) problems.push(`src/backdrop/mod.rs no longer names ${type}'s values`);
    const same = rustNames.length === declaredNames.length && rustNames.every((n) => declaredNames.includes(n));
    if (!same) problems.push(`${declared} is ${declaredNames.join('|')}, but Rust's ${type} names ${rustNames.join('|')}`);
  }
  const choices = readFileSync(join(lib, 'element.js'), 'utf8').match(/\bbackground: \[([^\]]+)\]/)?.[1];
  const elementModes = choices ? [...choices.matchAll(/'([a-z-]+)'/g)].map(([, value]) => value) : [];
  if (elementModes.join() !== named('Background').join()) {
    problems.push(`element.js's background choices are ${elementModes.join('|') || '(none)'}, but Rust's modes are ${named('Background').join('|')}`);
  }
  if (problems.length) throw new Error(`build.mjs: background names out of step: ${problems.join('; ')}`);
}
holdBackgroundNames();

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const file of ['vitrine_wasm.js', 'vitrine_wasm_bg.wasm']) copyFileSync(join(bindgen, file), join(out, file));
// vitrine.js (the main entry) and presets.js (no arbitrary-style files) share the engine in core.js.
const libFiles = ['core.js', 'live.js', 'vitrine.js', 'vitrine.d.ts', 'presets.js', 'presets.d.ts', 'README.md'];
// <vitrine-styler>: its small eager script, the UI it imports when styling is wanted, its module worker, declarations.
libFiles.push('element.js', 'element-ui.js', 'element-worker.js', 'element.d.ts');
for (const file of libFiles) copyFileSync(join(lib, file), join(out, file));
copyFileSync(join(root, 'models', manifest.model), join(out, manifest.model));
// The arbitrary-style transformer and its style predictor: vitrine.js fetches them next to itself on first use.
const vectorModels = ['arbitrary_transform.vitrine.safetensors', 'arbitrary_predict.vitrine.safetensors'];
for (const file of vectorModels) copyFileSync(join(root, 'models', file), join(out, file));
// Each model the package ships is fetched through a literal `new URL` (what bundlers follow), written by hand.
for (const [file, entry] of [[manifest.model, 'core.js'], ...vectorModels.map((f) => [f, 'vitrine.js'])]) {
  if (!readFileSync(join(lib, entry), 'utf8').includes(`new URL('./${file}', import.meta.url)`)) {
    throw new Error(`build.mjs: ${entry} does not fetch ${file} through new URL('./${file}', import.meta.url)`);
  }
}
cpSync(join(root, 'models', 'thumbnails'), join(out, 'thumbnails'), { recursive: true });
const thumbnails = readdirSync(join(out, 'thumbnails')).filter((file) => file.endsWith('.jpg')).sort();
writeFileSync(join(out, 'thumbnails.js'), `// Written by build.mjs: each preset's thumbnail as a literal \`new URL\`, so bundlers emit the files.
export const THUMBNAILS = {
${thumbnails.map((file) => `  'thumbnails/${file}': new URL('./thumbnails/${file}', import.meta.url),`).join('\n')}
};
`);
copyFileSync(join(root, 'models', 'NOTICE'), join(out, 'NOTICE'));
copyFileSync(join(root, 'models', 'LICENSE-weights'), join(out, 'LICENSE-weights'));

// The registry fields come from Cargo.toml's `repository` (and `homepage`, when it has one).
const repository = field('repository');
if (!repository) throw new Error('build.mjs: Cargo.toml has no repository; the package needs its address');
const homepage = field('homepage') ?? `${repository}#readme`;
const pkg = {
  name: 'vitrine',
  version: field('version'),
  description: `${field('description')}; browser only (WebGPU or WebAssembly)`,
  license: field('license'),
  repository: { type: 'git', url: `git+${repository}.git` },
  homepage,
  bugs: { url: `${repository}/issues` },
  type: 'module',
  main: './vitrine.js',
  module: './vitrine.js',
  types: './vitrine.d.ts',
  exports: {
    '.': { types: './vitrine.d.ts', default: './vitrine.js' },
    './presets': { types: './presets.d.ts', default: './presets.js' },
    './element': { types: './element.d.ts', default: './element.js' },
    [`./${manifest.model}`]: `./${manifest.model}`,
    ...Object.fromEntries(vectorModels.map((file) => [`./${file}`, `./${file}`])),
    './vitrine_wasm_bg.wasm': './vitrine_wasm_bg.wasm',
    './thumbnails/*': './thumbnails/*',
    './package.json': './package.json',
  },
  files: [...libFiles.filter((file) => file !== 'README.md'), 'thumbnails.js', 'vitrine_wasm.js', 'vitrine_wasm_bg.wasm', manifest.model, ...vectorModels, 'thumbnails/', 'README.md', 'NOTICE', 'LICENSE-weights'],
  // The engine's modules only declare; the element's entry defines <vitrine-styler> (customElements.define).
  sideEffects: ['./element.js'],
  keywords: ['style-transfer', 'neural-style', 'webgpu', 'wasm', 'webassembly', 'image', 'image-processing', 'product-photos', 'e-commerce', 'browser'],
};
writeFileSync(join(out, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
console.log(`www/pkg: vitrine ${pkg.version} assembled in ${out}`);
