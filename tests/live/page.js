// The live test's page (tests/live/run.mjs): styler.live on the fake camera, on a WebM clip made here from a canvas,
// and on pushed frames, each drawn frame read back and compared with `stylize` on the same frame; and the element's
// Live mode. What it holds after `stop()` is counted: open VideoFrames and (on the frame path) live GPU buffers.
import { Styler } from 'vitrine';

// Every VideoFrame made in this page, open until closed.
const frames = { open: 0 };
if (typeof VideoFrame === 'function') {
  const Original = VideoFrame;
  const open = new WeakSet();
  globalThis.VideoFrame = class extends Original {
    constructor(...args) {
      super(...args);
      frames.open += 1;
      open.add(this);
    }
    close() {
      if (open.delete(this)) frames.open -= 1;
      super.close();
    }
  };
}

// Live GPU buffers: created, minus destroyed, a device's destroy() destroying all of its own.
const gpu = { created: 0, destroyed: 0 };
if (typeof GPUDevice === 'function') {
  const owned = new WeakMap(); // device -> its buffers not yet destroyed
  const { createBuffer, destroy: destroyDevice } = GPUDevice.prototype;
  GPUDevice.prototype.createBuffer = function (descriptor) {
    gpu.created += 1;
    const buffer = createBuffer.call(this, descriptor);
    if (!owned.has(this)) owned.set(this, new Set());
    owned.get(this).add(buffer);
    buffer.__device = this;
    return buffer;
  };
  const { destroy } = GPUBuffer.prototype;
  GPUBuffer.prototype.destroy = function () {
    if (owned.get(this.__device)?.delete(this)) gpu.destroyed += 1;
    return destroy.call(this);
  };
  GPUDevice.prototype.destroy = function () {
    gpu.destroyed += owned.get(this)?.size ?? 0;
    owned.delete(this);
    return destroyDevice.call(this);
  };
}

const stylers = {};
const open = async (backend) => {
  stylers[backend] ??= await Styler.create({ backend });
  return stylers[backend];
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function pixels(source, width, height) {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

function psnr(a, b) {
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

async function cameraVideo() {
  const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  document.body.append(video);
  await video.play();
  return { video, end: () => stream.getTracks().forEach((t) => t.stop()) };
}

// A WebM clip of `seconds` of a moving pattern at 30 fps, recorded from a canvas (MediaRecorder, VP8).
let clip = null;
async function makeClip(width = 64, height = 48, seconds = 3) {
  if (clip) return clip;
  const canvas = Object.assign(document.createElement('canvas'), { width, height });
  // Opaque, as a product clip is: a canvas with alpha records I420A frames.
  const ctx = canvas.getContext('2d', { alpha: false });
  const recorder = new MediaRecorder(canvas.captureStream(30), { mimeType: 'video/webm;codecs=vp8', videoBitsPerSecond: 2e6 });
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  recorder.start(100);
  const started = performance.now();
  await new Promise((resolve) => {
    const draw = () => {
      const t = (performance.now() - started) / 1000;
      const gradient = ctx.createLinearGradient(0, 0, width, height);
      gradient.addColorStop(0, `hsl(${(t * 90) % 360} 70% 55%)`);
      gradient.addColorStop(1, `hsl(${(t * 90 + 160) % 360} 60% 35%)`);
      ctx.fillStyle = gradient;
      ctx.fillRect(0, 0, width, height);
      ctx.fillStyle = '#f4efe6';
      ctx.beginPath();
      ctx.arc(width / 2 + Math.cos(t * 3) * width / 4, height / 2 + Math.sin(t * 3) * height / 4, height / 5, 0, Math.PI * 2);
      ctx.fill();
      if (t < seconds) requestAnimationFrame(draw);
      else resolve();
    };
    draw();
  });
  recorder.stop();
  await new Promise((resolve) => {
    recorder.onstop = resolve;
  });
  const blob = new Blob(chunks, { type: 'video/webm' });
  clip = { url: URL.createObjectURL(blob), bytes: blob.size };
  return clip;
}

async function clipVideo() {
  const { url } = await makeClip();
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.src = url;
  // A recorded WebM has no duration to loop by: it starts again when it ends.
  video.addEventListener('ended', () => {
    video.currentTime = 0;
    video.play();
  });
  document.body.append(video);
  await video.play();
  return { video, end: () => video.pause() };
}

/**
 * One session on `backend` from `source` ('camera' or 'clip'): `count` drawn frames read back in the task that drew
 * them, the options changed halfway (`update`), then stop(). Each frame is compared with `stylize` on the same
 * input at the same size.
 */
async function session(backend, source, { count = 6, options = {}, update = null } = {}) {
  const styler = await open(backend);
  const { video, end } = source === 'camera' ? await cameraVideo() : await clipVideo();
  const canvas = document.createElement('canvas');
  document.body.append(canvas);
  const buffersBefore = gpu.created - gpu.destroyed;
  const framesBefore = frames.open;
  let current = { style: 19, strength: 1, preserveColor: false, ...options };
  const captured = [];
  let live;
  let updated = null;
  const enough = new Promise((resolve, reject) => {
    const onFrame = (detail) => {
      if (captured.length >= count) return;
      const { width, height } = detail;
      captured.push({
        out: pixels(canvas, width, height),
        input: detail.input ?? pixels(detail.frame, width, height),
        width,
        height,
        latencyMs: detail.latencyMs,
        options: { ...current },
      });
      if (update && captured.length === Math.floor(count / 2)) {
        live.update(update);
        current = { ...current, ...update };
        updated = true;
      }
      if (captured.length >= count) resolve();
    };
    open(backend).then(() => styler.live(video, canvas, { ...current, minSide: 64, maxSide: 64, onFrame, onError: reject }))
      .then((made) => {
        live = made;
      }, reject);
  });
  const started = performance.now();
  await Promise.race([enough, sleep(120_000).then(() => { throw new Error(`only ${captured.length} of ${count} frames in two minutes`); })]);
  const running = live.stats;
  const seconds = (performance.now() - started) / 1000;
  await live.stop();
  const stopped = live.stats;
  // Counted before the comparisons below, whose stylize calls give the Styler a plan (and buffers) of their own.
  const gpuBuffers = gpu.created - gpu.destroyed - buffersBefore;
  await sleep(600);
  const later = live.stats;
  end();
  video.remove();
  const results = [];
  for (const frame of captured) {
    // Live frames are painted whole: so is the still they are held to.
    const still = await styler.stylize(frame.input, { ...frame.options, maxSize: 0, background: 'paint' });
    results.push({ psnr: psnr(frame.out.data, still.data), width: frame.width, height: frame.height, latencyMs: frame.latencyMs, options: frame.options });
  }
  return {
    backend: styler.backend,
    results,
    running,
    stopped,
    later,
    seconds,
    updated,
    isRunning: live.running,
    openFrames: frames.open - framesBefore,
    gpuBuffers,
  };
}

// Frames pushed faster than the network styles them: the newest replaces the one waiting, none queue.
async function pushed(backend) {
  const styler = await open(backend);
  const source = Object.assign(document.createElement('canvas'), { width: 64, height: 48 });
  const ctx = source.getContext('2d');
  const bitmaps = [];
  for (let i = 0; i < 10; i += 1) {
    ctx.fillStyle = `hsl(${i * 36} 60% 50%)`;
    ctx.fillRect(0, 0, 64, 48);
    bitmaps.push(await createImageBitmap(source));
  }
  const canvas = new OffscreenCanvas(64, 48);
  const live = await styler.live(bitmaps[0], canvas, { style: 7, minSide: 64, maxSide: 64 });
  const outcomes = await Promise.all([live.firstFrame, ...bitmaps.slice(1).map((b) => live.push(b))]);
  const stats = live.stats;
  await live.stop();
  const closed = bitmaps.every((b) => b.width === 0);
  return { outcomes, stats, closed };
}

// Bad input: each refused with its code, at once (a style is checked before any frame).
async function errors(backend) {
  const styler = await open(backend);
  const canvas = new OffscreenCanvas(1, 1);
  const bitmap = () => createImageBitmap(new ImageData(64, 48));
  const code = async (work) => {
    try {
      await work();
      return 'none';
    } catch (error) {
      return error.code ?? String(error);
    }
  };
  const given = await bitmap();
  const out = {
    badSource: await code(() => styler.live('camera', canvas)),
    badCanvas: await code(async () => styler.live(await bitmap(), 'canvas')),
    badStyle: await code(() => styler.live(given, canvas, { style: 99 })),
    givenClosed: given.width === 0,
    badFps: await code(async () => styler.live(await bitmap(), canvas, { targetFps: -1 })),
  };
  const live = await styler.live(await bitmap(), canvas, { style: 3, minSide: 64, maxSide: 64 });
  await live.firstFrame;
  out.badUpdate = await code(() => live.update({ strength: 2 }));
  out.badUpdateStyle = await code(() => live.update({ style: 'nineteen' }));
  out.stillRunning = live.running;
  await live.stop();
  out.afterStop = await code(() => live.snapshot());
  return out;
}

// Adaptive sizing: 320x240 frames pushed one after another for `count` frames at `targetFps`; the working sizes
// the session went through.
async function adaptive(backend, targetFps, count = 40) {
  const styler = await open(backend);
  const source = Object.assign(document.createElement('canvas'), { width: 320, height: 240 });
  const ctx = source.getContext('2d');
  const frame = async (i) => {
    ctx.fillStyle = `hsl(${i * 17} 50% 50%)`;
    ctx.fillRect(0, 0, 320, 240);
    ctx.fillStyle = '#fff';
    ctx.fillRect((i * 7) % 300, 100, 20, 20);
    return createImageBitmap(source);
  };
  const canvas = new OffscreenCanvas(1, 1);
  const live = await styler.live(await frame(0), canvas, { style: 3, targetFps, minSide: 32, maxSide: 320 });
  await live.firstFrame;
  const sizes = [live.stats.width];
  for (let i = 1; i < count; i += 1) {
    await live.push(await frame(i));
    if (sizes.at(-1) !== live.stats.width) sizes.push(live.stats.width);
  }
  const { width, height, latencyMs } = live.stats;
  await live.stop();
  return { sizes, width, height, latencyMs };
}

// The element's Live mode: the camera (or the `video` attribute's clip), a snapshot, a lost camera (or stopLive).
// `startLive` failing gives its code.
async function element(backend, { kind = 'camera', lose = kind === 'camera' } = {}) {
  await import('./node_modules/vitrine/element.js');
  const el = document.createElement('vitrine-styler');
  el.backend = backend;
  el.setAttribute('src', 'fixtures/coffee.jpg');
  el.setAttribute('look', '19');
  el.setAttribute('max-size', '64');
  el.setAttribute('reveal', 'auto');
  if (kind === 'video') el.setAttribute('video', (await makeClip()).url);
  document.body.append(el);
  await el.start();
  const report = {};
  const status = () => el.shadowRoot.querySelector('.status').textContent;
  const photoShown = () => Boolean(el.poster) && el.poster.getBoundingClientRect().height > 0 && !el.shadowRoot.querySelector('canvas.live');
  try {
    await el.startLive(kind);
  } catch (error) {
    Object.assign(report, { code: error.code, status: status(), photoShown: photoShown(), errorText: el.shadowRoot.querySelector('.error').textContent });
    el.remove();
    return report;
  }
  const deadline = performance.now() + 120_000;
  while ((el.liveStats?.framesShown ?? 0) < 3 && !el.error && performance.now() < deadline) await sleep(50);
  if (el.error) {
    Object.assign(report, { code: el.error.code, status: status(), message: el.error.message });
    el.remove();
    return report;
  }
  report.stats = el.liveStats;
  report.liveStatus = status();
  const blob = await el.snapshot();
  const bitmap = await createImageBitmap(blob);
  report.snapshot = { type: blob.type, width: bitmap.width, height: bitmap.height };
  if (lose) {
    el.simulateCameraLoss();
    while (el.error?.code !== 'CAMERA_LOST' && performance.now() < deadline) await sleep(50);
    await sleep(100);
    Object.assign(report, { code: el.error?.code, status: status(), photoShown: photoShown() });
  } else {
    // A new strength while live goes to the session; the frames go on.
    const before = el.liveStats.framesShown;
    el.strength = 0.4;
    while (el.liveStats.framesShown < before + 2 && !el.error && performance.now() < deadline) await sleep(50);
    report.afterUpdate = { shown: el.liveStats.framesShown - before, error: el.error?.code ?? null };
    report.stopped = await el.stopLive();
    report.status = status();
    report.photoShown = photoShown();
  }
  el.remove();
  return report;
}

window.liveTest = { session, pushed, errors, adaptive, element, makeClip, frames, gpu };
window.liveReady = true;
