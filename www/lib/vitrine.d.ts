// vitrine: painted looks for product photos, on WebGPU or on the CPU (WebAssembly), in the browser.

/** Where the network runs. */
export type Backend = 'webgpu' | 'cpu';

/** What `Styler.create` may use: `'auto'` takes WebGPU on a hardware GPU, else the CPU. */
export type BackendChoice = 'auto' | Backend;

/** A preset index (see `Styler.styles`), or a mix of presets with relative weights such as `{ 3: 0.5, 12: 0.5 }`,
 * or one weight per preset. Weights are normalised to sum to 1. */
export type Style = number | Record<number, number> | readonly number[];

/** Every stable `code` an `Error` thrown by vitrine carries. */
export type ErrorCode =
  /** The model bytes are not a vitrine model (damaged, truncated, another file). */
  | 'MODEL_FORMAT'
  /** The model was made for another version of vitrine. */
  | 'MODEL_VERSION'
  /** The model's graph is inconsistent (an altered file). */
  | 'MODEL_GRAPH'
  /** The model could not be downloaded. */
  | 'MODEL_FETCH'
  /** The WebAssembly module could not be loaded. */
  | 'WASM_LOAD'
  /** A style index that does not exist, or is not a whole number. */
  | 'STYLE_INDEX'
  /** Style weights that are negative, not numbers, all zero, or of the wrong count. */
  | 'STYLE_WEIGHTS'
  /** A strength outside 0..1. */
  | 'STRENGTH'
  /** An image smaller than the network accepts (the message gives the minimum side). */
  | 'IMAGE_TOO_SMALL'
  /** An image beyond 4096 px a side or 8 megapixels at the working size (see `maxSize`). */
  | 'IMAGE_TOO_LARGE'
  /** Not an accepted image type, an image that did not load, or a cross-origin image without CORS. */
  | 'BAD_IMAGE'
  /** An unknown backend, a bad `maxSize` or `model` option. */
  | 'BAD_OPTION'
  /** `backend: 'webgpu'` where the browser offers no WebGPU adapter. */
  | 'GPU_UNAVAILABLE'
  /** The image needs a larger buffer than this GPU allows. */
  | 'GPU_BUFFER_LIMIT'
  /** The GPU failed or was lost during the call (the next call opens it again). */
  | 'GPU_FAILED'
  /** The Styler was used after `free()`. */
  | 'FREED'
  /** A bug in vitrine; the details are in the console. */
  | 'INTERNAL';

/** The `Error`s vitrine throws: `message` says what to do, `code` is stable. */
export interface VitrineError extends Error {
  code: ErrorCode;
}

/** Reported while `Styler.create` works. */
export type ProgressEvent =
  | { stage: 'wasm' }
  | { stage: 'model'; loaded: number; /** 0 when unknown */ total: number }
  | { stage: 'backend' }
  | { stage: 'ready'; backend: Backend };

export interface CreateOptions {
  /** Default `'auto'`: WebGPU on a hardware adapter, else the CPU. A software adapter (SwiftShader, the
   * `isFallbackAdapter` kind) counts as no GPU: the CPU path is faster there. `'webgpu'` uses any adapter or throws
   * `GPU_UNAVAILABLE`. */
  backend?: BackendChoice;
  /** The model: a URL (resolved as `fetch` does) or the file's bytes. Default: the 26-style model in this package,
   * fetched relative to this module. */
  model?: string | URL | Uint8Array | ArrayBuffer;
  onProgress?: (event: ProgressEvent) => void;
}

export interface StyleInfo {
  readonly id: number;
  readonly name: string;
  /** Absolute URL of a 96 px JPEG showing the style; null for a model with other styles. */
  readonly thumbnail: string | null;
}

export interface StylizeOptions {
  /** Default 0. */
  style?: Style;
  /** 1 (the default) is the full style, 0 the untouched photo. */
  strength?: number;
  /** Keep the photo's own colours under the styled brightness. Default false. */
  preserveColor?: boolean;
  /** The longer side the network works at, in pixels; larger images are scaled down for the network and the
   * result scaled back up, so the result always has the input's size. Default 1024; 0 for the full size. */
  maxSize?: number;
}

/** What `stylize` accepts. */
export type ImageInput =
  | ImageData
  | ImageBitmap
  | HTMLCanvasElement
  | OffscreenCanvas
  | HTMLImageElement;

export declare class Styler {
  private constructor();

  /** Loads the WebAssembly module and the model and opens the backend. */
  static create(options?: CreateOptions): Promise<Styler>;

  /** What the calls run on. Changes to `'cpu'` if the GPU is lost under `'auto'` and cannot be opened again. */
  readonly backend: Backend;

  /** Why the CPU runs although WebGPU was allowed, else null. */
  readonly fallbackReason: string | null;

  /** The preset styles, in index order. */
  readonly styles: readonly StyleInfo[];

  /** Styles an image. Resolves to an `ImageData` of the input's size with the input's alpha. Calls on one Styler run
   * one after another. Rejects with a `VitrineError`. If the GPU device was lost, the call opens it again (or, under
   * `'auto'`, falls back to the CPU and says so in `backend` and `fallbackReason`). */
  stylize(image: ImageInput, options?: StylizeOptions): Promise<ImageData>;

  /** Applies `strength` and `preserveColor` to a full-strength result of `stylize` (`strength: 1`,
   * `preserveColor: false`) of the same `photo`: what `stylize` would return with those options, without running the
   * network again (for a live strength slider). Both `ImageData` of one size; throws a `VitrineError`. */
  finish(photo: ImageData, fullStrength: ImageData, options?: { strength?: number; preserveColor?: boolean }): ImageData;

  /** Releases the WebAssembly memory and GPU resources (after calls already made). Later calls throw `FREED`. */
  free(): void;

  /** Testing aid: destroys the GPU device as a driver reset would; returns false on the CPU backend. */
  simulateDeviceLoss(): boolean;
}

export default Styler;
