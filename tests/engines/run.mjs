// The package's core in every engine a shopper uses: Debian's Chromium (headless, the reference), Firefox ESR
// (headless, over WebDriver BiDi with puppeteer-core) and WebKitGTK's MiniBrowser (under Xvfb, through
// WebKitWebDriver with selenium-webdriver), Firefox and WebKit each as shipped and again with their WebGPU switched
// on. Each styles the same RGBA bytes on the CPU path: preset 19 and a mix at 96x96 (against onnxruntime fp32 too),
// a style vector at 96x72 (against onnxruntime) and preset 19 on a 600x400 photo; Firefox's and WebKit's pixels must
// equal Chromium's from this same run, byte for byte. Then the error codes and 'auto' falling back to the CPU with
// its reason. Where an engine offers a WebGPU adapter, the cases run on it too, within one level of its CPU path.
// Firefox and WebKit go through a dead proxy (loopback exempt) that records what reaches it, so nothing leaves the
// machine; Chromium has tests/support/browser.mjs's isolation.
//
//   node tests/engines/run.mjs [firefox firefox-webgpu webkit webkit-webgpu]
//   (after `make web`; `make engines-test` does both, with lavapipe for Firefox's WebGPU)
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../../www/serve.mjs';
import { checks, launchChromium, psnrAgainstPlanar, psnrRgba, writeShopPage } from '../support/browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const pkgDir = join(root, 'www', 'pkg');
const work = join(root, 'target', 'engines-test');
const app = join(work, 'app');
const FIXTURE = join(root, 'tests', 'fixtures', 'browser', 'rocket_96x96.safetensors');
const VECTOR_FIXTURE = join(root, 'tests', 'fixtures', 'arbitrary', 'transform_rocket_96x72.safetensors');
const PHOTO = join(root, 'www', 'samples', 'coffee.jpg');
const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER ?? '/usr/bin/WebKitWebDriver';
const MINIBROWSER = process.env.MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const OUTSIDE_HOST = 'vitrine-outside.invalid';
// As in tests/package/run.mjs: int8 weights against onnxruntime fp32, and WebGPU against the CPU path in 8 bits.
const MIN_PSNR_DB = 38;
const MAX_GPU_CPU_LEVELS = 1;
// Where the adapter stores f16 activations (shader-f16: Firefox's WebGPU on lavapipe), the f16 path's bar instead.
const MIN_F16_GPU_CPU_PSNR_DB = 44;
const CALL_TIMEOUT_MS = 10 * 60 * 1000;
const TIMEOUT_MS = 25 * 60 * 1000;

const { check, finish } = checks('engines test', TIMEOUT_MS);

function readSafetensors(file) {
  const bytes = readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  const raw = (name) => {
    const [start, end] = header[name].data_offsets;
    return bytes.subarray(8 + headerLength + start, 8 + headerLength + end);
  };
  const floats = (name) => {
    const data = raw(name);
    return new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  };
  return { header, raw, floats };
}

// The test app: the package's files as installed under node_modules, this folder's page, and the inputs as raw RGBA
// (the 96x96 crop, the 96x72 photo of the style-vector reference). Returns the cases and their references.
function prepare() {
  if (!existsSync(join(pkgDir, 'package.json'))) throw new Error('www/pkg is not built: run `make web` first');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(app, 'fixtures'), { recursive: true });
  cpSync(pkgDir, join(app, 'node_modules', 'vitrine'), { recursive: true });
  const entry = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).exports['.'].default;
  writeShopPage(app, 'engines', entry);
  copyFileSync(join(here, 'page.js'), join(app, 'page.js'));
  copyFileSync(PHOTO, join(app, 'fixtures', 'coffee.jpg'));

  const crop = readSafetensors(FIXTURE);
  const [height, width] = crop.header.input.shape;
  writeFileSync(join(app, 'fixtures', 'rocket_96x96.rgba'), crop.raw('input'));
  const cases = JSON.parse(crop.header.__metadata__.cases).cases.map(({ name, style }) => ({
    name, input: 'rocket_96x96.rgba', width, height, style, expected: crop.floats(`${name}.expected`),
  }));

  const transform = readSafetensors(VECTOR_FIXTURE);
  const [, vh, vw] = transform.header.input.shape;
  const planar = transform.floats('input');
  const plane = vw * vh;
  const pixels = Buffer.alloc(plane * 4);
  for (let i = 0; i < plane; i += 1) {
    for (let c = 0; c < 3; c += 1) pixels[i * 4 + c] = Math.round(planar[c * plane + i] * 255);
    pixels[i * 4 + 3] = 255;
  }
  writeFileSync(join(app, 'fixtures', 'rocket_96x72.rgba'), pixels);
  const style = { format: 'vitrine-style', version: 1, model: 'arbitrary_transform', vector: Array.from(transform.floats('vector')) };
  cases.push({ name: 'vector', input: 'rocket_96x72.rgba', width: vw, height: vh, style, expected: transform.floats('expected') });
  return cases;
}

// A proxy that forwards nothing: it notes each request's first line and closes the connection.
async function deadProxy() {
  const seen = [];
  const turnedAway = [];
  const server = createServer((socket) => {
    socket.once('data', (chunk) => {
      const line = chunk.toString('latin1').split('\r\n')[0];
      (line.includes(OUTSIDE_HOST) ? seen : turnedAway).push(line);
      socket.destroy();
    });
    socket.on('error', () => {});
    socket.setTimeout(5000, () => socket.destroy());
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return { port: server.address().port, seen, turnedAway, close: () => new Promise((done) => server.close(done)) };
}

async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

// Each engine as { name, version, call(method, ...args), close() }: `call` runs window.enginesTest[method] in the
// page and resolves to its (JSON) result; `messages` collects the console's errors and warnings where the driver
// reports them.
async function chromium(url) {
  const browser = await launchChromium();
  const page = await browser.newPage();
  const messages = [];
  page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && messages.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (error) => messages.push(`page error: ${error.message}`));
  page.setDefaultTimeout(CALL_TIMEOUT_MS);
  await page.goto(url);
  await page.waitForFunction(() => window.enginesReady === true, null, { timeout: 60_000 });
  return {
    name: 'chromium',
    version: `Chromium ${browser.version()}`,
    messages,
    call: (method, ...args) => page.evaluate(([m, a]) => window.enginesTest[m](...a), [method, args]),
    close: () => browser.close(),
  };
}

async function firefox(url, proxy, { webgpu = false } = {}) {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    protocolTimeout: CALL_TIMEOUT_MS,
    extraPrefsFirefox: {
      // Every connection but loopback's goes to the dead proxy (Firefox never proxies 127.0.0.1 by default).
      'network.proxy.type': 1,
      'network.proxy.http': '127.0.0.1',
      'network.proxy.http_port': proxy.port,
      'network.proxy.ssl': '127.0.0.1',
      'network.proxy.ssl_port': proxy.port,
      'network.proxy.socks_remote_dns': true,
      'network.proxy.no_proxies_on': '',
      'network.proxy.allow_hijacking_localhost': false,
      'network.dns.disablePrefetch': true,
      'network.prefetch-next': false,
      // Firefox's own WebGPU, off by default on Linux; on, and past the blocklist that refuses software drivers, it
      // finds the machine's Vulkan adapter (lavapipe here).
      ...(webgpu ? { 'dom.webgpu.enabled': true, 'gfx.webgpu.ignore-blocklist': true } : {}),
    },
  });
  const page = await browser.newPage();
  const messages = [];
  page.on('console', (m) => (m.type() === 'error' || m.type() === 'warn') && messages.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (error) => messages.push(`page error: ${error.message}`));
  page.setDefaultTimeout(CALL_TIMEOUT_MS);
  await page.goto(url);
  await page.waitForFunction(() => window.enginesReady === true, { timeout: 60_000 });
  return {
    name: webgpu ? 'firefox, WebGPU on' : 'firefox',
    // With a Vulkan driver named (make's lavapipe), Firefox's WebGPU must find it: the GPU checks may not go quiet.
    expectAdapter: webgpu && Boolean(process.env.VK_ICD_FILENAMES) && existsSync(process.env.VK_ICD_FILENAMES),
    version: await browser.version(),
    messages,
    call: (method, ...args) => page.evaluate((m, a) => window.enginesTest[m](...a), method, args),
    close: () => within(15_000, 'closing Firefox', browser.close()).catch((error) => {
      browser.process()?.kill('SIGKILL');
      throw error;
    }),
  };
}

// Every process this test starts, ended when it exits however it exits (the watchdog included).
const children = new Set();
process.on('exit', () => children.forEach(stop));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));

// Each in a process group of its own, so that stopping it also stops what it started (WebKitWebDriver's browser).
function launch(command, args, options) {
  const child = spawn(command, args, { ...options, detached: true });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function stop(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

// `promise`, or a rejection naming `what` after `ms`.
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what} took over ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Xvfb on a display it picks itself (-displayfd), resolved with the child and its display once it is listening.
function xvfb() {
  const child = launch('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let written = '';
  let said = '';
  return new Promise((done, fail) => {
    child.stdio[3].on('data', (chunk) => {
      written += chunk.toString();
      const number = written.match(/^(\d+)\n/);
      if (number) done({ child, display: `:${number[1]}` });
    });
    child.stderr.on('data', (chunk) => {
      said += chunk.toString();
    });
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`Xvfb exited (${code ?? signal}) before it was ready: ${said.trim()}`)));
  });
}

// A WebKitWebDriver session on a fresh Xvfb. Now and then, on a loaded machine, the MiniBrowser never answers its
// driver and the new-session request hangs: after SESSION_TIMEOUT_MS both processes go and the next try starts anew.
const SESSION_TIMEOUT_MS = 60_000;
const SESSION_TRIES = 3;

async function webkitSession(caps, proxy) {
  const { Builder } = await import('selenium-webdriver');
  const failures = [];
  for (let attempt = 1; attempt <= SESSION_TRIES; attempt += 1) {
    const screen = await xvfb();
    const port = await freePort();
    const proxyUrl = `http://127.0.0.1:${proxy.port}`;
    // The session's proxy capability sends pages through the dead proxy; the environment does the same for anything
    // else the browser's network process fetches.
    const driverProcess = launch(WEBKIT_DRIVER, [`--port=${port}`, '--host=127.0.0.1'], {
      env: { ...process.env, DISPLAY: screen.display, http_proxy: proxyUrl, https_proxy: proxyUrl, no_proxy: '127.0.0.1' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const processes = [driverProcess, screen.child];
    try {
      const driver = await within(SESSION_TIMEOUT_MS, 'a WebKitWebDriver session', (async () => {
        // WebKitWebDriver says nothing when it is listening: the session request retries until it is.
        for (let connect = 0; ; connect += 1) {
          try {
            return await new Builder().usingServer(`http://127.0.0.1:${port}`).withCapabilities(caps).build();
          } catch (error) {
            if (connect >= 40 || !/ECONNREFUSED/.test(String(error))) throw error;
            await new Promise((done) => setTimeout(done, 250));
          }
        }
      })());
      if (attempt > 1) console.log(`     (webkit: session on try ${attempt}, after: ${failures.join('; ')})`);
      return { driver, processes };
    } catch (error) {
      failures.push(error.message);
      processes.forEach(stop);
    }
  }
  throw new Error(`no WebKitWebDriver session in ${SESSION_TRIES} tries: ${failures.join('; ')}`);
}

async function webkit(url, proxy, { webgpu = false } = {}) {
  const { Capabilities } = await import('selenium-webdriver');
  const caps = new Capabilities({
    browserName: 'MiniBrowser',
    // The MiniBrowser draws a real window (on Xvfb). WebKit's WebGPU is a preview feature, off by default.
    'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation', ...(webgpu ? ['--features=+WebGPU'] : [])] },
    proxy: { proxyType: 'manual', httpProxy: `127.0.0.1:${proxy.port}`, sslProxy: `127.0.0.1:${proxy.port}`, noProxy: ['127.0.0.1'] },
  });
  const { driver, processes } = await webkitSession(caps, proxy);
  const close = async () => {
    try {
      await within(15_000, 'closing the WebKit session', driver.quit());
    } finally {
      processes.forEach(stop);
    }
  };
  try {
    await driver.manage().setTimeouts({ script: CALL_TIMEOUT_MS, pageLoad: 60_000 });
    await driver.get(url);
    await driver.wait(() => driver.executeScript('return window.enginesReady === true'), 60_000);
    const got = await driver.getCapabilities();
    return {
      name: webgpu ? 'webkit, WebGPU on' : 'webkit',
      version: `${got.get('browserName')} (WebKitGTK ${got.get('browserVersion')})`,
      messages: [],
      call: async (method, ...args) => {
        const reply = await driver.executeAsyncScript(`
          const done = arguments[arguments.length - 1];
          Promise.resolve().then(() => window.enginesTest[arguments[0]](...arguments[1])).then(
            (value) => done({ value: JSON.stringify(value) }),
            (error) => done({ error: String(error && error.stack || error) }));`, method, args);
        if (reply.error) throw new Error(`${method} failed in WebKit: ${reply.error}`);
        return reply.value === undefined ? undefined : JSON.parse(reply.value);
      },
      close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

// Firefox and WebKit as a shopper gets them, then with their WebGPU switched on, so that wherever it offers an
// adapter the GPU checks run there.
const ENGINES = {
  chromium: (url) => chromium(url),
  firefox: (url, proxy) => firefox(url, proxy),
  'firefox-webgpu': (url, proxy) => firefox(url, proxy, { webgpu: true }),
  webkit: (url, proxy) => webkit(url, proxy),
  'webkit-webgpu': (url, proxy) => webkit(url, proxy, { webgpu: true }),
};

const decode = (text) => Buffer.from(text, 'base64');

function difference(a, b) {
  if (a.length !== b.length) return { bytes: Math.max(a.length, b.length), worst: 255 };
  let bytes = 0;
  let worst = 0;
  for (let i = 0; i < a.length; i += 1) {
    const d = Math.abs(a[i] - b[i]);
    if (d > 0) bytes += 1;
    worst = Math.max(worst, d);
  }
  return { bytes, worst };
}

const EXPECTED_CODES = {
  styleIndex: 'STYLE_INDEX', styleWeights: 'STYLE_WEIGHTS', strength: 'STRENGTH', tooSmall: 'IMAGE_TOO_SMALL',
  badImage: 'BAD_IMAGE', maxSize: 'BAD_OPTION', background: 'BAD_OPTION', vectorVersion: 'STYLE_VECTOR', vectorNaN: 'STYLE_VECTOR',
  backend: 'BAD_OPTION', modelFormat: 'MODEL_FORMAT', modelFetch: 'MODEL_FETCH', freed: 'FREED',
};

// One engine through the core; `reference` is Chromium's CPU results from this run (null while running Chromium).
async function exercise(engine, cases, reference, proxy) {
  const label = engine.name;
  const env = await engine.call('environment');
  const { adapter } = env.webgpu;
  const offered = adapter ? `adapter ${JSON.stringify(adapter)}, so the GPU checks run`
    : { absent: 'not offered', present: 'offered, but no adapter' }[env.webgpu.api] ?? `not offered (navigator.gpu is ${env.webgpu.api})`;
  console.log(`     ${label}: ${engine.version}; WebGPU ${offered}${env.webgpu.error ? ` (${env.webgpu.error})` : ''}`);
  if (engine.expectAdapter) check(Boolean(adapter), `${label}: finds the Vulkan adapter of $VK_ICD_FILENAMES`, process.env.VK_ICD_FILENAMES);
  check(env.outside.startsWith('refused'), `${label}: a request for a host outside 127.0.0.1 gets no answer`, env.outside);
  if (proxy) {
    const probes = proxy.seen.filter((line) => line.includes(OUTSIDE_HOST));
    check(probes.length > 0, `${label}: it was sent to the dead proxy, not the network`, probes.length ? `${probes.length}x ${probes[0]}` : 'the proxy saw nothing');
    proxy.seen.length = 0;
  }

  const started = Date.now();
  const cpu = await engine.call('core', 'cpu', cases.map(({ expected, ...c }) => c), true);
  check(cpu.backend === 'cpu' && cpu.fallbackReason === null, `${label}: backend 'cpu' runs on the CPU`, `${cpu.backend}, created in ${cpu.createMs.toFixed(0)} ms`);
  // Up to 'ready' (the style vector's model download reports 'model' again later).
  const stages = cpu.stages.slice(0, cpu.stages.indexOf('ready') + 1).filter((s, i, all) => s !== all[i - 1]).join();
  check(stages === 'wasm,model,backend,ready', `${label}: onProgress reports each stage`, cpu.stages.join());
  const results = {};
  for (const c of cases) {
    const r = cpu.results[c.name];
    const data = decode(r.data);
    results[c.name] = data;
    const what = `${label} cpu ${c.name} at ${c.width}x${c.height}`;
    check(r.isImageData && r.width === c.width && r.height === c.height && data.length === c.width * c.height * 4, `${what}: an ImageData of the input's size`);
    check(data.every((v, i) => i % 4 !== 3 || v === 255), `${what}: alpha kept`);
    const timing = `${r.ms.toFixed(0)} ms`;
    if (c.expected) {
      const quality = psnrAgainstPlanar(data, c.expected, c.width, c.height);
      check(quality >= MIN_PSNR_DB, `${what} vs onnxruntime`, `${quality.toFixed(2)} dB (>= ${MIN_PSNR_DB}), ${timing}`);
    }
    if (reference) {
      const { bytes, worst } = difference(data, reference[c.name]);
      check(bytes === 0, `${what}: byte for byte Chromium's`, bytes === 0 ? `identical, ${timing}` : `${bytes} bytes differ, by up to ${worst} of 255`);
    } else {
      console.log(`     ${what}: ${timing}`);
    }
  }
  for (const [what, code] of Object.entries(EXPECTED_CODES)) {
    check(cpu.errors[what] === code, `${label}: error ${what} is thrown with code ${code}`, cpu.errors[what]);
  }

  const auto = await engine.call('auto');
  if (adapter) {
    // WebGPU offered: every case on it, within one level of this engine's CPU path.
    // On a software adapter the mid-size photo takes tens of seconds: the small cases only, as in the benchmarks.
    const gpuCases = adapter.fallback ? cases.filter((c) => c.width * c.height <= 96 * 96) : cases;
    const gpu = await engine.call('core', 'webgpu', gpuCases.map(({ expected, ...c }) => c), false);
    check(gpu.backend === 'webgpu', `${label}: backend 'webgpu' runs on WebGPU`, gpu.backend);
    for (const c of gpuCases) {
      const got = decode(gpu.results[c.name].data);
      const { worst } = difference(got, results[c.name]);
      const ms = gpu.results[c.name].ms.toFixed(0);
      if (gpu.precision === 'f16') {
        const quality = psnrRgba(got, results[c.name]);
        check(quality >= MIN_F16_GPU_CPU_PSNR_DB, `${label} webgpu (f16 activations) vs cpu ${c.name}`, `${quality.toFixed(1)} dB, max difference ${worst} of 255, ${ms} ms`);
      } else {
        check(worst <= MAX_GPU_CPU_LEVELS, `${label} webgpu vs cpu ${c.name}`, `max difference ${worst} of 255, ${ms} ms`);
      }
    }
    const fellBack = auto.backend === 'cpu' && typeof auto.fallbackReason === 'string' && auto.fallbackReason.length > 0;
    check((auto.backend === 'webgpu' && auto.fallbackReason === null) || fellBack,
      `${label}: 'auto' runs on WebGPU or says why it did not`, `${auto.backend}: ${auto.fallbackReason}`);
  } else {
    check(auto.backend === 'cpu' && typeof auto.fallbackReason === 'string' && /gpu|adapter/i.test(auto.fallbackReason),
      `${label}: without WebGPU 'auto' falls back to the CPU and says why`, `${auto.backend}: ${auto.fallbackReason}`);
    check(auto.webgpu === 'GPU_UNAVAILABLE', `${label}: without WebGPU 'webgpu' throws GPU_UNAVAILABLE`, auto.webgpu);
  }

  const after = await engine.call('after');
  const hosts = after.hosts.filter((host) => host !== OUTSIDE_HOST);
  check(hosts.length > 0 && hosts.every((host) => host.startsWith('127.0.0.1:')), `${label}: every file came from 127.0.0.1`, hosts.join(' '));
  check(after.errors.length === 0, `${label}: no uncaught error or rejection in the page`, after.errors.join(' | '));
  // The console's errors and warnings, for the record: the probe's refusal, the 404 of the bad model URL, and
  // Chromium's "No available adapters" are expected there.
  for (const message of new Set(engine.messages)) console.log(`     [${label} console] ${message}`);
  console.log(`     (${label}: ${((Date.now() - started) / 1000).toFixed(1)} s for the core)`);
  return results;
}

async function main() {
  const only = process.argv.slice(2);
  const unknown = only.filter((name) => !ENGINES[name]);
  if (unknown.length) throw new Error(`no engine called ${unknown.join(', ')}; choose from ${Object.keys(ENGINES).join(', ')}`);
  const cases = prepare();
  const server = await serve({ root: app });
  const proxy = await deadProxy();
  try {
    // Chromium decodes the mid-size photo once; every engine then styles those bytes.
    const reference = await ENGINES.chromium(server.url);
    let chromiumResults;
    try {
      const photo = await reference.call('decode', './fixtures/coffee.jpg');
      writeFileSync(join(app, 'fixtures', `coffee_${photo.width}x${photo.height}.rgba`), decode(photo.data));
      cases.push({ name: 'style19_photo', input: `coffee_${photo.width}x${photo.height}.rgba`, width: photo.width, height: photo.height, style: 19 });
      chromiumResults = await exercise(reference, cases, null, null);
    } finally {
      await reference.close();
    }
    for (const name of Object.keys(ENGINES).filter((n) => n !== 'chromium')) {
      if (only.length && !only.includes(name)) continue;
      const started = Date.now();
      let engine;
      try {
        engine = await ENGINES[name](server.url, proxy);
        console.log(`     (${name}: started in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
        await exercise(engine, cases, chromiumResults, proxy);
      } catch (error) {
        check(false, `${name}: the core ran to the end`, error.stack ?? String(error));
      } finally {
        if (engine) await engine.close().catch((error) => console.log(`     (${name} did not close cleanly: ${error.message})`));
      }
    }
    const turnedAway = [...new Set(proxy.turnedAway)];
    console.log(`     the dead proxy turned away ${proxy.turnedAway.length} of the browsers' own requests${turnedAway.length ? `: ${turnedAway.slice(0, 8).join(' | ')}` : ''}`);
  } finally {
    await proxy.close();
    await new Promise((done) => server.server.close(done));
  }
}

await finish(main);
