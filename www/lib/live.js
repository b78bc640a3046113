// Live frames: a camera feed or a product video styled as it plays, drawn into a canvas.
//
// One loop for every backend. Each frame the source presents is either styled or dropped, never queued: while a
// frame is being styled the newest one waits in a single slot (a newer one replaces it), so what is shown is never
// more than one frame behind. A <video> paces the loop with requestVideoFrameCallback where the browser has it, else
// with requestAnimationFrame; frames pushed with `live.push` (a worker's VideoFrames) pace it themselves.
//
// Two ways to style a frame, chosen once per session:
// - the frame path (WebGPU): the frame is copied into a GPU texture, run through the network and drawn into the
//   canvas's WebGPU context by the wasm side (src/web/live.rs), with no readback and no pixels through wasm memory;
//   strength and keep-true-colours are uniforms of the drawing pass, a style is new norm parameters;
// - the still path (the CPU, or a GPU without the frame path): the frame is drawn into a small canvas, read with
//   getImageData, styled by `stylize` and put into the canvas: it reads back by nature, so it runs small.
// The working size adapts to hold `targetFps` within `minSide`..`maxSide` (the longer side, in multiples of the
// network's stride product, so the frame path needs no padding).

const DEFAULT_TARGET_FPS = 24;
// The longer side's range and first size on each path: the CPU path runs a 26-style network per frame in wasm, so
// it starts small; adaptation then finds what the device sustains.
const SIDES = {
  frame: { min: 64, max: 640, start: 256 },
  still: { min: 48, max: 256, start: 96 },
};
// Adapt after this many timed frames at a size, once a frame's cost is this far from the target's budget.
const ADAPT_EVERY = 4;
const TOO_SLOW = 0.9;
const TOO_FAST = 1.4;
// One step changes the side by at most these factors (time goes with the area, so by the square root of the ratio).
const SHRINK_LIMIT = 0.6;
const GROW_LIMIT = 1.25;
// Frames kept for the medians of latency and the frame rate's window.
const HISTORY = 30;
const FPS_WINDOW_MS = 1000;

const isA = (name, value) => typeof globalThis[name] === 'function' && value instanceof globalThis[name];

function sourceSize(source) {
  if (isA('HTMLVideoElement', source)) return [source.videoWidth, source.videoHeight];
  if (isA('VideoFrame', source)) return [source.displayWidth, source.displayHeight];
  return [source.width, source.height];
}

const median = (values) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/**
 * Starts a live session. `engine` is what the Styler lends it: `backend`, `multiple` (the network's stride
 * product), `minSide` (the network's smallest side), `stylize(imageData, options)` (the still path, queued with the
 * Styler's other calls; resolves to { styled, readbacks }), `openFrames(canvas, options)` (resolves to the frame
 * path, or null where there is none), `checkStyle(style)` (throws a coded error for a style `stylize` would refuse)
 * and `codedError(code, message)`.
 */
export async function startLive(engine, source, canvas, options) {
  const { codedError } = engine;
  const video = isA('HTMLVideoElement', source);
  if (!video && !isA('VideoFrame', source) && !isA('ImageBitmap', source)) {
    throw codedError('BAD_IMAGE', 'live takes an HTMLVideoElement (a camera stream or a video file), a VideoFrame or an ImageBitmap as its source');
  }
  try {
    return await open(engine, source, canvas, options, video);
  } catch (error) {
    // A frame given to a session that never started is closed all the same: the session owned it.
    if (!video) source.close?.();
    throw error;
  }
}

async function open(engine, source, canvas, options, video) {
  const { codedError } = engine;
  if (!isA('HTMLCanvasElement', canvas) && !isA('OffscreenCanvas', canvas)) {
    throw codedError('BAD_OPTION', 'live draws into an HTMLCanvasElement or an OffscreenCanvas (one transferred to a worker too)');
  }
  const settings = checkedOptions(engine, options, {});
  const wanted = options.path ?? 'auto';
  if (!['auto', 'frame', 'still'].includes(wanted)) {
    throw codedError('BAD_OPTION', `path must be 'auto', 'frame' or 'still', not ${JSON.stringify(wanted)}; leave it out to let vitrine choose`);
  }
  let frames = null;
  if (wanted !== 'still' && engine.backend === 'webgpu') frames = await engine.openFrames(canvas, settings);
  if (wanted === 'frame' && !frames) {
    if (engine.backend !== 'webgpu') {
      throw codedError('GPU_UNAVAILABLE', "the frame path needs WebGPU and this Styler runs on the CPU; leave path out (or 'auto') to use the still path");
    }
    throw codedError('STYLE_KIND', "the frame path paints preset styles and their mixes; leave path out (or 'auto') to paint a style vector on the still path");
  }
  const live = new Live(engine, source, canvas, settings, frames);
  live.begin(video ? null : source);
  return live;
}

// The options `live` and `update` take, merged over `base`; a style is checked now (as `stylize` checks it), not at
// the next frame.
function checkedOptions(engine, options, base) {
  const { codedError } = engine;
  const next = { ...base };
  if (options === null || typeof options !== 'object') {
    throw codedError('BAD_OPTION', 'live options must be an object such as { style: 19, strength: 0.8 }');
  }
  if ('style' in options) {
    engine.checkStyle(options.style);
    next.style = options.style;
  }
  if ('strength' in options && options.strength !== undefined) {
    const { strength } = options;
    if (typeof strength !== 'number' || !(strength >= 0 && strength <= 1)) {
      throw codedError('STRENGTH', `strength must be a number from 0 (the photo) to 1 (the full style), not ${String(strength)}`);
    }
    next.strength = strength;
  }
  next.strength ??= 1;
  if ('preserveColor' in options) next.preserveColor = Boolean(options.preserveColor);
  next.preserveColor ??= false;
  for (const key of ['targetFps', 'minSide', 'maxSide']) {
    if (!(key in options) || options[key] === undefined) continue;
    const value = options[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw codedError('BAD_OPTION', `${key} must be a positive number, not ${String(value)}`);
    }
    next[key] = value;
  }
  next.targetFps ??= DEFAULT_TARGET_FPS;
  if ('onFrame' in options) next.onFrame = options.onFrame;
  if ('onError' in options) next.onError = options.onError;
  return next;
}

class Live {
  #engine;
  #source;
  #canvas;
  #options;
  #frames; // the frame path, or null for the still path (and once stopped)
  #path;
  #running = true;
  #busy = null; // the frame being styled (a promise), or null
  #pending = null; // { frame, settle } waiting for the frame in flight
  #callback = 0;
  #lastPresented = null;
  #lastTime = -1;
  #side;
  #range;
  #size = [0, 0];
  #timed = []; // milliseconds per frame at the current size
  #latencies = [];
  #shownAt = [];
  #shown = 0;
  #dropped = 0;
  #stillReadbacks = 0;
  #work = null; // the still path's canvas at the working size
  #output = null; // the still path's 2D context on the caller's canvas
  #snapshots = [];
  #stopped = null;
  #framesReadbacks = null; // the frame path's count, kept once its executor is freed
  #firstDrawn;
  /** The error that stopped the session, or null. */
  error = null;
  /** Resolves to true once the first frame is drawn, false when the session stops before one is. */
  firstFrame;

  constructor(engine, source, canvas, options, frames) {
    this.#engine = engine;
    this.#source = source;
    this.#canvas = canvas;
    this.#options = options;
    this.#frames = frames;
    this.#path = frames ? 'frame' : 'still';
    const sides = SIDES[frames ? 'frame' : 'still'];
    const multiple = engine.multiple;
    const floor = Math.max(multiple, Math.ceil(engine.minSide / multiple) * multiple);
    const min = Math.max(floor, Math.ceil((options.minSide ?? sides.min) / multiple) * multiple);
    const max = Math.max(min, Math.floor((options.maxSide ?? sides.max) / multiple) * multiple);
    this.#range = [min, max];
    this.#side = Math.min(max, Math.max(min, sides.start));
    this.firstFrame = new Promise((resolve) => {
      this.#firstDrawn = resolve;
    });
  }

  /** { framesShown, framesDropped, fps, width, height, readbacks, latencyMs, path, backend }: `width` x `height`
   * is the working size; `readbacks` the GPU readbacks made since the session began. */
  get stats() {
    const times = this.#shownAt;
    const span = times.length > 1 ? times[times.length - 1] - times[0] : 0;
    return {
      framesShown: this.#shown,
      framesDropped: this.#dropped,
      fps: span > 0 ? ((times.length - 1) * 1000) / span : 0,
      width: this.#size[0],
      height: this.#size[1],
      readbacks: this.#readbacks(),
      latencyMs: median(this.#latencies),
      path: this.#path,
      backend: this.#engine.backend,
    };
  }

  // The frame path's executor is the session's own; the still path's is the Styler's, counted from the start.
  #readbacks() {
    if (this.#frames) return this.#frames.readbacks();
    return this.#framesReadbacks ?? this.#stillReadbacks;
  }

  /** True until `stop()` or an error ends the session. */
  get running() {
    return this.#running;
  }

  begin(first) {
    if (first) {
      this.push(first);
      return;
    }
    this.#watch();
  }

  /** Changes style, strength or keep-true-colours from the next frame on; nothing is rebuilt. */
  update(options) {
    const next = checkedOptions(this.#engine, options ?? {}, this.#options);
    for (const key of ['targetFps', 'minSide', 'maxSide']) {
      if (key in (options ?? {})) throw this.#engine.codedError('BAD_OPTION', `${key} is set when live starts; stop and start again to change it`);
    }
    this.#frames?.update(next);
    this.#options = next;
  }

  /** A frame for a session started with a VideoFrame or ImageBitmap (a worker's feed). The session owns it and
   * closes it. Resolves to true once drawn, false when a newer frame replaced it or the session stopped. */
  push(frame) {
    if (!this.#running) {
      frame.close?.();
      return Promise.resolve(false);
    }
    return new Promise((settle) => {
      if (this.#busy) {
        this.#replacePending({ frame, settle });
        return;
      }
      this.#run(frame, settle, null);
    });
  }

  /** A PNG of the next frame drawn, read in the same task as it is drawn (a WebGPU canvas is cleared after). */
  snapshot() {
    if (!this.#running) return Promise.reject(this.#engine.codedError('FREED', 'this live session has stopped; take the snapshot while it runs'));
    return new Promise((resolve, reject) => this.#snapshots.push({ resolve, reject }));
  }

  /** Ends the session: no more frames are taken, the frame in flight finishes, and the GPU resources, the pending
   * frame and the working canvas are released. The source (the camera stream, the video) stays the caller's. */
  stop() {
    this.#stopped ??= (async () => {
      this.#running = false;
      this.#unwatch();
      this.#replacePending(null);
      await this.#busy?.catch(() => {});
      if (this.#frames) this.#framesReadbacks = this.#frames.readbacks();
      this.#frames?.free();
      this.#frames = null;
      this.#work = null;
      this.#firstDrawn(false);
      for (const { reject } of this.#snapshots.splice(0)) reject(this.#engine.codedError('FREED', 'the live session stopped before the next frame'));
    })();
    return this.#stopped;
  }

  #replacePending(next) {
    const old = this.#pending;
    this.#pending = next;
    if (old) {
      old.frame.close?.();
      this.#dropped += 1;
      old.settle(false);
    }
  }

  // A <video>: a callback per presented frame (requestVideoFrameCallback), else per display frame.
  #watch() {
    const video = /** @type {HTMLVideoElement} */ (this.#source);
    if (typeof video.requestVideoFrameCallback === 'function') {
      const onFrame = (_now, meta) => {
        if (!this.#running) return;
        this.#callback = video.requestVideoFrameCallback(onFrame);
        // Frames the video presented that no callback saw are dropped too.
        const presented = meta.presentedFrames;
        const missed = this.#lastPresented === null ? 0 : Math.max(0, presented - this.#lastPresented - 1);
        this.#lastPresented = presented;
        this.#dropped += missed;
        this.#take(meta.mediaTime);
      };
      this.#callback = video.requestVideoFrameCallback(onFrame);
      return;
    }
    const tick = () => {
      if (!this.#running) return;
      this.#callback = requestAnimationFrame(tick);
      if (video.readyState < 2 || video.currentTime === this.#lastTime) return;
      this.#lastTime = video.currentTime;
      this.#take(video.currentTime);
    };
    this.#callback = requestAnimationFrame(tick);
  }

  #unwatch() {
    const video = this.#source;
    if (!isA('HTMLVideoElement', video) || !this.#callback) return;
    if (typeof video.cancelVideoFrameCallback === 'function') video.cancelVideoFrameCallback(this.#callback);
    if (typeof cancelAnimationFrame === 'function') cancelAnimationFrame(this.#callback);
    this.#callback = 0;
  }

  // The video's current frame, styled now, or dropped when a frame is still being styled.
  #take(mediaTime) {
    if (this.#busy) {
      this.#dropped += 1;
      return;
    }
    const video = /** @type {HTMLVideoElement} */ (this.#source);
    if (video.readyState < 2 || !video.videoWidth) return;
    let frame;
    try {
      // A VideoFrame holds the decoded picture without copying it; each path draws from it.
      frame = typeof VideoFrame === 'function' ? new VideoFrame(video, { timestamp: Math.round(mediaTime * 1e6) }) : video;
    } catch {
      return; // no picture yet
    }
    this.#run(frame, () => {}, mediaTime);
  }

  #run(frame, settle, mediaTime) {
    const taken = performance.now();
    const work = this.#style(frame, taken, mediaTime).then(
      (drawn) => settle(drawn),
      (error) => {
        settle(false);
        this.#fail(error);
      },
    ).finally(() => {
      if (!isA('HTMLVideoElement', frame)) frame.close?.();
      this.#busy = null;
      const next = this.#pending;
      this.#pending = null;
      if (next && this.#running) this.#run(next.frame, next.settle, null);
      else if (next) {
        next.frame.close?.();
        next.settle(false);
      }
    });
    this.#busy = work;
  }

  // Styles one frame into the canvas; false when the session stopped meanwhile.
  async #style(frame, taken, mediaTime) {
    const [sw, sh] = sourceSize(frame);
    const [w, h] = this.#workingSize(sw, sh);
    const resized = w !== this.#size[0] || h !== this.#size[1];
    if (resized) {
      this.#size = [w, h];
      this.#timed = [];
    }
    const options = this.#options;
    const started = performance.now();
    let input = null;
    if (this.#frames) {
      await this.#frames.draw(frame, w, h);
    } else {
      input = this.#read(frame, w, h);
      const { styled, readbacks } = await this.#engine.stylize(input, {
        style: options.style, strength: options.strength, preserveColor: options.preserveColor, maxSize: 0,
        // A frame is painted whole, as the frame path paints it: no backdrop analysis per frame.
        background: 'paint',
      });
      this.#stillReadbacks += readbacks;
      if (!this.#running) return false;
      this.#draw(styled);
    }
    if (!this.#running) return false;
    const done = performance.now();
    this.#shown += 1;
    // The frame path's frame is on the canvas once the GPU has done it: the last frame's GPU time stands for it.
    const latency = done - taken + (this.#frames ? this.#frames.gpuMs() : 0);
    this.#record(this.#latencies, latency);
    this.#shownAt.push(done);
    while (this.#shownAt.length > 2 && done - this.#shownAt[0] > FPS_WINDOW_MS) this.#shownAt.shift();
    // The first frame at a size pays for new buffers and plans: it is not timed.
    if (!resized) this.#adapt(done - started);
    this.#deliver(frame, input, w, h, latency, mediaTime);
    this.#firstDrawn(true);
    return true;
  }

  #record(list, value) {
    list.push(value);
    if (list.length > HISTORY) list.shift();
  }

  // What the network runs at: the longer side is #side (never above the source's), both sides multiples of the
  // network's stride product, the aspect kept to within that rounding.
  #workingSize(sw, sh) {
    const m = this.#engine.multiple;
    const long = Math.max(sw, sh);
    const short = Math.min(sw, sh);
    const side = Math.max(m, Math.min(this.#side, Math.floor(long / m) * m));
    const other = Math.max(m, Math.round((side * short) / long / m) * m);
    return sw >= sh ? [side, other] : [other, side];
  }

  // Shrinks or grows the working size toward the target frame rate's budget.
  #adapt(ms) {
    const [min, max] = this.#range;
    if (min === max) return;
    this.#timed.push(ms);
    if (this.#timed.length < ADAPT_EVERY) return;
    const ratio = 1000 / this.#options.targetFps / median(this.#timed);
    this.#timed = [];
    if (ratio >= TOO_SLOW && ratio <= TOO_FAST) return;
    const factor = Math.min(GROW_LIMIT, Math.max(SHRINK_LIMIT, Math.sqrt(ratio)));
    const m = this.#engine.multiple;
    this.#side = Math.min(max, Math.max(min, Math.round((this.#side * factor) / m) * m));
  }

  // The still path's input: the frame drawn at the working size.
  #read(frame, w, h) {
    if (!this.#work || this.#work.canvas.width !== w || this.#work.canvas.height !== h) {
      const canvas = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(w, h) : Object.assign(document.createElement('canvas'), { width: w, height: h });
      this.#work = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d', { willReadFrequently: true }));
    }
    this.#work.drawImage(frame, 0, 0, w, h);
    return this.#work.getImageData(0, 0, w, h);
  }

  #draw(styled) {
    const canvas = this.#canvas;
    if (canvas.width !== styled.width || canvas.height !== styled.height) {
      canvas.width = styled.width;
      canvas.height = styled.height;
      this.#output = null;
    }
    this.#output ??= /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
    if (!this.#output) throw this.#engine.codedError('BAD_OPTION', 'the canvas has another kind of context already; give live a fresh canvas');
    this.#output.putImageData(styled, 0, 0);
  }

  // Snapshots and the onFrame hook, in the task that drew the frame.
  #deliver(frame, input, width, height, latencyMs, mediaTime) {
    for (const { resolve, reject } of this.#snapshots.splice(0)) {
      const canvas = this.#canvas;
      const blob = 'convertToBlob' in canvas
        ? canvas.convertToBlob({ type: 'image/png' })
        : new Promise((ok) => canvas.toBlob(ok, 'image/png'));
      blob.then((b) => (b ? resolve(b) : reject(this.#engine.codedError('INTERNAL', 'the frame could not be encoded as PNG'))), reject);
    }
    const { onFrame } = this.#options;
    if (typeof onFrame !== 'function') return;
    try {
      onFrame({ frame, input, width, height, latencyMs, mediaTime });
    } catch (error) {
      console.error('vitrine: onFrame threw', error);
    }
  }

  #fail(error) {
    if (!this.#running) return;
    this.error = error;
    this.stop();
    const { onError } = this.#options;
    if (typeof onError === 'function') onError(error);
    else console.error('vitrine: the live session stopped', error);
  }
}
