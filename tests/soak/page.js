// The soak page, served from the scratch app that installed the packed package: one Styler per backend (and one
// with tileSize for small streamed runs) takes call after call mixing presets, mixes, weight vectors, style files,
// blends of them, strengths and two image sizes, and reports what it holds: wasm memory and the live GPU buffers.
// tests/soak/run.mjs drives it in chunks and measures the JS heap itself (CDP, after a forced collection).
import { Styler } from 'vitrine';
// The same module instance the package loaded: its init returns the existing exports, memory included.
import init from './node_modules/vitrine/vitrine_wasm.js';

// Live GPU buffers: created, minus destroyed, minus collected by the garbage collector without destroy().
const gpu = { created: 0, destroyed: 0, collected: 0, bytes: 0 };
if (typeof GPUDevice !== 'undefined') {
  const destroyedBuffers = new WeakSet();
  const collected = new FinalizationRegistry((size) => {
    gpu.collected += 1;
    gpu.bytes -= size;
  });
  const { createBuffer } = GPUDevice.prototype;
  GPUDevice.prototype.createBuffer = function (descriptor) {
    const buffer = createBuffer.call(this, descriptor);
    gpu.created += 1;
    gpu.bytes += descriptor.size;
    collected.register(buffer, descriptor.size, buffer);
    return buffer;
  };
  const { destroy } = GPUBuffer.prototype;
  GPUBuffer.prototype.destroy = function () {
    if (!destroyedBuffers.has(this)) {
      destroyedBuffers.add(this);
      collected.unregister(this);
      gpu.destroyed += 1;
      gpu.bytes -= this.size;
    }
    return destroy.call(this);
  };
}

function photo(width, height, seed) {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i += 1) {
    const x = i % width;
    const y = Math.floor(i / width);
    data[i * 4] = (x * 37 + seed * 11) % 256;
    data[i * 4 + 1] = (y * 53 + seed * 7) % 256;
    data[i * 4 + 2] = ((x ^ y) * 29 + seed) % 256;
    data[i * 4 + 3] = (x + y) % 5 === 0 ? 128 : 255;
  }
  return new ImageData(data, width, height);
}

let state = null;

window.soak = {
  async open(backend, side, brand) {
    const plain = await Styler.create({ backend });
    const tiled = await Styler.create({ backend, tileSize: Math.max(4, Math.floor(side / 8) * 4) });
    const scaled = { ...brand, vector: brand.vector.map((v, i) => v * (0.8 + (i % 5) * 0.1)) };
    state = {
      plain,
      tiled,
      brand,
      scaled,
      images: [photo(side, side, 1), photo(side - 4, Math.max(8, side - 8), 2)],
      wasm: await init(),
    };
    return { backend: plain.backend, tiledBackend: tiled.backend };
  },

  // Calls `from` .. `from + count - 1`; each call's kind follows from its number, so every run is the same.
  async calls(from, count) {
    const { plain, tiled, brand, scaled, images } = state;
    const kinds = {};
    const ms = {};
    for (let n = from; n < from + count; n += 1) {
      const image = images[n % 2];
      const strength = [1, 0.8, 0.5, 0.25][n % 4];
      let styler = plain;
      let options;
      let kind;
      // A cycle of 16 calls: two in streamed tiles (several runs each), the rest whole; a style vector below full
      // strength also runs the style predictor on the photo (Magenta's way), the slowest call, every 500th.
      switch (n % 500 === 7 ? 'vector strength' : n % 16) {
        case 'vector strength':
          kind = 'vector strength';
          options = { style: brand, strength: 0.5 };
          break;
        case 6:
          kind = 'tiled preset';
          styler = tiled;
          options = { style: (n * 3) % 26, strength };
          break;
        case 14:
          kind = 'tiled vector';
          styler = tiled;
          options = { style: n % 32 === 14 ? scaled : brand };
          break;
        case 2:
        case 9:
          kind = 'mix';
          options = { style: { [n % 26]: 0.5 + (n % 7) / 10, [(n * 7 + 3) % 26]: 0.5 }, strength };
          break;
        case 3:
        case 10:
          kind = 'weights';
          options = { style: Array.from({ length: 26 }, (_, i) => ((i * n) % 5) / 4 + (i === n % 26 ? 1 : 0)) };
          break;
        case 4:
        case 11:
        case 15:
          kind = 'style file';
          options = { style: n % 3 === 0 ? scaled : brand };
          break;
        case 5:
        case 12:
          kind = 'blend';
          options = { style: { vectors: [{ style: brand, weight: 0.7 }, { style: scaled, weight: 0.3 }] } };
          break;
        default:
          kind = 'preset';
          options = { style: n % 26, strength, preserveColor: n % 3 === 0 };
      }
      const started = performance.now();
      const result = await styler.stylize(image, options);
      ms[kind] = (ms[kind] ?? 0) + performance.now() - started;
      if (result.width !== image.width || result.height !== image.height) {
        throw new Error(`call ${n} (${kind}): ${result.width}x${result.height} for ${image.width}x${image.height}`);
      }
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    }
    return { kinds, ms };
  },

  sample() {
    return {
      wasmBytes: state.wasm.memory.buffer.byteLength,
      gpuBuffers: gpu.created - gpu.destroyed - gpu.collected,
      gpuBytes: gpu.bytes,
      gpuCreated: gpu.created,
    };
  },

  // Lets finalisation callbacks run after a forced collection.
  settle: () => new Promise((done) => setTimeout(done, 50)),
};
window.soakReady = true;
