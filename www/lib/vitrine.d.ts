// vitrine: painted looks for product photos, on WebGPU or on the CPU (WebAssembly), in the browser.
// These declarations need only `lib: ["ES2022", "WebWorker"]` (a module worker) or `["ES2022", "DOM"]` (a page):
// the DOM-only image types are resolved through `typeof globalThis`, and are `never` where the DOM library is absent.

/** Where the network runs. */
export type Backend = 'webgpu' | 'cpu';

/** What `Styler.create` may use: `'auto'` takes WebGPU on a hardware GPU, else the CPU. */
export type BackendChoice = 'auto' | Backend;

/** A style vector as a portable object: what `styler.styleFromImage` returns, and what `JSON.parse` gives back from
 * a saved one (a few hundred bytes as JSON). The same format as the CLI's `vitrine style PICTURE -o style.json`. */
export interface StyleFile {
  readonly format: 'vitrine-style';
  readonly version: 1;
  /** The model the vector is for: `'arbitrary_transform'`. */
  readonly model: string;
  /** 100 finite numbers (an array or a Float32Array when passed in; an array when returned). */
  readonly vector: readonly number[] | Float32Array;
}

/** What `styleFromImage` resolves to: a plain object, `vector` an ordinary array. */
export interface StyleVector extends StyleFile {
  readonly vector: number[];
}

/** A blend of style vectors with relative weights (normalised to sum to 1), e.g. two brand styles 70:30. */
export interface StyleVectorMix {
  readonly vectors: ReadonlyArray<{ readonly style: StyleFile; /** Default 1. */ readonly weight?: number }>;
}

/** A preset index (see `Styler.styles`), or a mix of presets with relative weights such as `{ 3: 0.5, 12: 0.5 }`,
 * or one weight per preset (weights are normalised to sum to 1); or a style vector (`StyleFile`) or a blend of
 * them (`StyleVectorMix`), painted by the arbitrary-style model. */
export type Style = number | Record<number, number> | readonly number[] | StyleFile | StyleVectorMix;

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
  /** A style vector of the wrong length, with a number that is not finite, of another format, version or model,
   * or a blend with bad weights. */
  | 'STYLE_VECTOR'
  /** A style of a kind the model cannot take (a model file given as `transformModel` that takes no vectors). */
  | 'STYLE_KIND'
  /** A strength outside 0..1. */
  | 'STRENGTH'
  /** An image smaller than the network accepts (the message gives the minimum side). */
  | 'IMAGE_TOO_SMALL'
  /** An image beyond 4096 px a side or 16 megapixels at the working size (see `maxSize`). */
  | 'IMAGE_TOO_LARGE'
  /** Not an accepted image type, an image that did not load, or a cross-origin image without CORS. */
  | 'BAD_IMAGE'
  /** An unknown backend, a bad `maxSize`, `tileSize`, `background` or `model` option. */
  | 'BAD_OPTION'
  /** `backend: 'webgpu'` where the browser offers no WebGPU adapter. */
  | 'GPU_UNAVAILABLE'
  /** The image (or one tile of `tileSize`) needs a larger buffer than this GPU allows. */
  | 'GPU_BUFFER_LIMIT'
  /** The GPU failed or was lost during the call (the next call opens it again). */
  | 'GPU_FAILED'
  /** The Styler was used after `free()`. */
  | 'FREED'
  /** A bug in vitrine; the details are in the console. */
  | 'INTERNAL';

/** Every error vitrine throws or rejects with: `message` says what to do, `code` is stable. `catch (e)` narrows
 * with `e instanceof VitrineError` or `isVitrineError(e)`. */
export declare class VitrineError extends Error {
  constructor(code: ErrorCode, message: string, options?: ErrorOptions);
  name: 'VitrineError';
  readonly code: ErrorCode;
}

/** True for a `VitrineError`, and for an `Error` carrying one of vitrine's codes that crossed a realm. */
export declare function isVitrineError(value: unknown): value is VitrineError;

/** Which model a `'model'` progress event is about: the preset model (while `Styler.create` works), or the
 * arbitrary-style transformer and style predictor (when first used). */
export type ModelName = 'presets' | 'transform' | 'predictor';

/** Reported while `Styler.create` works, and while the arbitrary-style models download on first use. */
export type ProgressEvent =
  | { stage: 'wasm' }
  | { stage: 'model'; model: ModelName; loaded: number; /** 0 when unknown */ total: number }
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
  /** The arbitrary-style transformer (style vectors), as `model`. Default: `arbitrary_transform.vitrine.safetensors`
   * in this package. Fetched with the first style vector, not before. */
  transformModel?: string | URL | Uint8Array | ArrayBuffer;
  /** The style predictor (pictures to style vectors), as `model`. Default: `arbitrary_predict.vitrine.safetensors`
   * in this package (2.3 MB gzipped). Fetched by the first `styleFromImage`, or the first style vector at strength
   * below 1, not before. */
  predictorModel?: string | URL | Uint8Array | ArrayBuffer;
  /** Tuning and testing knob: style every image in streamed tiles of this side, in pixels (a positive multiple of
   * 4, else `BAD_OPTION`), even when it would fit whole. Leave it out: vitrine then runs an image whole, and tiles
   * only what does not fit the GPU's buffers or the memory budget. Each tile carries a halo as wide as the network's
   * reach (72 px for the presets) and the norms use the whole image's statistics, so the result matches the whole
   * run to rounding, but small tiles cost several times the work (a 256 px photo in 64 px tiles: about 8x). Applies
   * to presets and style vectors alike. */
  tileSize?: number;
  /** A diagnostic for benchmarks that compare kernels: `'fused'` (the default: tiled convolutions with the norms
   * folded into them) or `'baseline'` (one kernel per op, as first written). Styling is the same either way. */
  kernels?: 'fused' | 'baseline';
  /** How long, in milliseconds, one GPU call (opening WebGPU, a styling, a style vector) may take before vitrine
   * gives up on it with `GPU_FAILED` instead of leaving the page waiting. Default 120000 (two minutes, meant for
   * hardware GPUs; a software adapter may need more for a large or tiled photo); `Infinity` for no limit. After a
   * call that timed out, the next call opens the GPU again (under `'auto'`: styles on the CPU, and `fallbackReason`
   * says why). Not applied on the CPU path. */
  gpuTimeout?: number;
  onProgress?: (event: ProgressEvent) => void;
}

/** How an image runs (`Styler.tilePlan`): whole, layered (exact, whole tensors in memory, convolutions on the GPU in
 * bands) or in streamed tiles with halos. */
export interface TilePlan {
  readonly mode: 'whole' | 'layered' | 'streamed';
  /** Streamed tiles; 1 for whole and layered runs. */
  readonly tiles: number;
  /** The side of a streamed tile's kept centre, in pixels; null unless streamed. */
  readonly tileSize: number | null;
  /** Pixels of context each streamed tile carries on each side (0 unless streamed). */
  readonly halo: number;
  /** Peak bytes of tensors in wasm memory. */
  readonly hostBytes: number;
  /** The largest GPU buffer the run creates (0 on the CPU). */
  readonly deviceBufferBytes: number;
}

export interface StyleInfo {
  readonly id: number;
  readonly name: string;
  /** Absolute URL of a 96 px JPEG showing the style; null for a model with other styles. */
  readonly thumbnail: string | null;
}

/** What becomes of a photo's backdrop (the CLI's `--background`): `'auto'` keeps a plain studio backdrop as
 * photographed and paints the product as itself, and paints any other photo whole; `'keep'` the same; `'white'` makes
 * the backdrop and its shadows pure white (#FFFFFF); `'transparent'` cuts the painted product out (the product's
 * matte becomes the alpha channel); `'paint'` paints the whole photo, backdrop included. */
export type BackgroundMode = 'auto' | 'keep' | 'white' | 'transparent' | 'paint';

/** What was done with the backdrop: the whole photo painted, or the backdrop kept, made white or transparent. */
export type BackgroundApplied = 'painted' | 'kept' | 'white' | 'transparent';

/** Why a photo was painted whole although the mode would have kept, whitened or cut out its backdrop. */
export type BackgroundReason = 'too-small' | 'no-plain-backdrop' | 'no-product-found' | 'product-fills-frame';

/** What `stylize` did with the backdrop: the same fields as the CLI's `--json` record `"background"`. */
export interface BackgroundReport {
  /** The mode asked for. */
  readonly mode: BackgroundMode;
  readonly applied: BackgroundApplied;
  /** The product's share of the frame (0 to 1) when a product on a plain backdrop was found, else null. */
  readonly product: number | null;
  /** Why the whole photo was painted when the mode asked otherwise, else null. */
  readonly reason: BackgroundReason | null;
}

/** What `stylize` and `finish` return: an `ImageData` with its backdrop's report. `background` is a property of this
 * object: `postMessage` copies the pixels but not it, so send `image.background` along. */
export interface StylizedImage extends ImageData {
  readonly background: BackgroundReport;
}

export interface StylizeOptions {
  /** Default 0. */
  style?: Style;
  /** 1 (the default) is the full style. For a preset, 0 is the untouched photo (a fade of the pixels). For a style
   * vector, strength blends the style's vector with the photo's own (Magenta's way), so 0 is the photo painted in
   * its own style; this loads the style predictor. */
  strength?: number;
  /** Keep the photo's own colours under the styled brightness. Default false. */
  preserveColor?: boolean;
  /** The longer side the network works at, in pixels; larger images are scaled down for the network and the
   * result scaled back up, so the result always has the input's size. Default 1024; 0 for the full size. */
  maxSize?: number;
  /** What becomes of a plain studio backdrop (default `'auto'`: kept as photographed, the product painted as
   * itself). Any other value than the five is refused with `BAD_OPTION`. The backdrop is judged on the full-size
   * photo, and a kept, white or transparent backdrop is composited at full size under `maxSize` too. */
  background?: BackgroundMode;
}

/** A type of the DOM library by its global name, or `never` where the program has no DOM (a worker's
 * `lib: ["ES2022", "WebWorker"]`), so these declarations compile either way. */
type DomOnly<Name extends string> = typeof globalThis extends { [K in Name]: { prototype: infer T } } ? T : never;

/** What `stylize` accepts: in a worker, `ImageData`, `ImageBitmap` and `OffscreenCanvas`; in a page also a
 * `<canvas>` and a loaded `<img>`. */
export type ImageInput =
  | ImageData
  | ImageBitmap
  | OffscreenCanvas
  | DomOnly<'HTMLCanvasElement'>
  | DomOnly<'HTMLImageElement'>;

/** A frame source for `live`: a `<video>` (a camera stream or a video file) paces itself; a `VideoFrame` or
 * `ImageBitmap` is the first frame, and `push` gives the next ones (a worker's feed). */
export type LiveSource = DomOnly<'HTMLVideoElement'> | VideoFrame | ImageBitmap;

export interface LiveOptions {
  /** As `stylize` takes it (default: style 0). */
  style?: Style;
  /** 0 to 1 (default 1): a fade of the pixels for every kind of style, so changing it between frames costs nothing. */
  strength?: number;
  /** Keep the photo's colours under the painted brushwork. */
  preserveColor?: boolean;
  /** The frame rate the working size adapts to hold (default 24). */
  targetFps?: number;
  /** The working size's longer side is kept within these (rounded to the network's multiple of 4). Equal values fix
   * it. Defaults: 64..640 on the frame path, 48..256 on the still path. */
  minSide?: number;
  maxSide?: number;
  /** 'auto' (default: the frame path on WebGPU, else the still path), 'frame' (WebGPU only) or 'still' (every frame
   * through `stylize`, reading back: for comparisons and benchmarks). */
  path?: 'auto' | 'frame' | 'still';
  /** Called in the task that drew each frame: `frame` (valid only during the call), `input` (the still path's pixels
   * at the working size, else null), the working size, the frame's latency from capture to drawn, its media time. */
  onFrame?: (detail: LiveFrame) => void;
  /** Called once if a frame fails; the session has then stopped (`live.error`). */
  onError?: (error: VitrineError) => void;
}

export interface LiveFrame {
  frame: VideoFrame | ImageBitmap | DomOnly<'HTMLVideoElement'>;
  input: ImageData | null;
  width: number;
  height: number;
  latencyMs: number;
  mediaTime: number | null;
}

export interface LiveStats {
  framesShown: number;
  /** Frames the source presented that were never styled (a newer one was ready first). */
  framesDropped: number;
  /** Frames drawn per second over the last second. */
  fps: number;
  /** The working size the network runs at now. */
  width: number;
  height: number;
  /** GPU readbacks since the session began: 0 on the frame path, one a frame on the still path on WebGPU. */
  readbacks: number;
  /** The median of the last 30 frames' time from capture to drawn, in milliseconds. On the frame path a frame is
   * handed to the GPU, which finishes it while the next is prepared (at most two frames in flight), so its time
   * counts the last frame's GPU time (submission to done) too. */
  latencyMs: number;
  path: 'frame' | 'still';
  backend: Backend;
}

export interface Live {
  readonly stats: LiveStats;
  readonly running: boolean;
  readonly error: VitrineError | null;
  /** Resolves to true once the first frame is drawn (false when the session stopped first). */
  readonly firstFrame: Promise<boolean>;
  /** Changes `style`, `strength` or `preserveColor` from the next frame on; nothing is rebuilt. */
  update(options: Pick<LiveOptions, 'style' | 'strength' | 'preserveColor'>): void;
  /** The next frame of a session started from a VideoFrame or ImageBitmap; the session closes it. Resolves to true
   * once drawn, false when a newer frame replaced it first (frames are dropped, never queued). */
  push(frame: VideoFrame | ImageBitmap): Promise<boolean>;
  /** A PNG of the next frame drawn. */
  snapshot(): Promise<Blob>;
  /** Ends the session and frees what it holds; the source (the camera stream, the video) stays the caller's. */
  stop(): Promise<void>;
}

export declare class Styler {
  private constructor();

  /** Styles a camera feed or a product video as it plays, into `canvas` (an `OffscreenCanvas` in a worker too):
   * the latest frame wins, the working size adapts to `targetFps`. On WebGPU frames stay on the GPU (no readback);
   * on the CPU the same API runs small. Rejects with a `VitrineError`. */
  live(source: LiveSource, canvas: DomOnly<'HTMLCanvasElement'> | OffscreenCanvas, options?: LiveOptions): Promise<Live>;

  /** Loads the WebAssembly module and the model and opens the backend. */
  static create(options?: CreateOptions): Promise<Styler>;

  /** What the calls run on. Changes to `'cpu'` if the GPU is lost under `'auto'` and cannot be opened again. */
  readonly backend: Backend;

  /** How the network stores its activations where it runs: `'f16'` on a WebGPU adapter with `shader-f16`, else
   * `'f32'` (arithmetic is f32 either way). */
  readonly precision: 'f16' | 'f32';

  /** Why the CPU runs although WebGPU was allowed, else null. */
  readonly fallbackReason: string | null;

  /** The preset styles, in index order. */
  readonly styles: readonly StyleInfo[];

  /** Styles an image. Resolves to an `ImageData` of the input's size with the input's alpha (a transparent
   * backdrop's alpha is the product's matte), and `background`, what was done with the backdrop. Calls on one Styler
   * run one after another. Rejects with a `VitrineError`. If the GPU device was lost, the call opens it again (or,
   * under `'auto'`, falls back to the CPU and says so in `backend` and `fallbackReason`). */
  stylize(image: ImageInput, options?: StylizeOptions): Promise<StylizedImage>;

  /** The style of a picture (its centred square; pictures beyond 2048 px are scaled down first) as a style vector
   * to save with `JSON.stringify` and pass as `style`. Loads the arbitrary-style models on first use. Rejects with
   * a `VitrineError`. */
  styleFromImage(image: ImageInput): Promise<StyleVector>;

  /** Applies `strength` and `preserveColor` to a full-strength result of `stylize` (`strength: 1`,
   * `preserveColor: false`) of the same `photo`: what `stylize` would return with those options, without running the
   * network again (for a live strength slider). Both `ImageData` of one size; throws a `VitrineError`. For presets:
   * a style vector's strength is not a fade of pixels, so for a vector call `stylize` with the new strength (its
   * `preserveColor` still applies here, with `strength: 1`). `background` is the mode `fullStrength` was styled with
   * (default: the mode its report names, else `'auto'`): the result fades to the photo as that mode treats its
   * backdrop, so a kept backdrop stays the photo's own pixels, a white one 255, a cut-out transparent. */
  finish(photo: ImageData, fullStrength: ImageData, options?: { strength?: number; preserveColor?: boolean; background?: BackgroundMode }): StylizedImage;

  /** Releases the WebAssembly memory and GPU resources (after calls already made). Later calls throw `FREED`. */
  free(): void;

  /** Tuning aid: how the preset network runs an image styled at `width` x `height` (the working size, after
   * `maxSize`), given this Styler's backend and `tileSize`. Queued with the other calls. Rejects with
   * `IMAGE_TOO_SMALL` or `IMAGE_TOO_LARGE` as `stylize` would. */
  tilePlan(width: number, height: number): Promise<TilePlan>;

  /** Testing aid: destroys the GPU device as a driver reset would; returns false on the CPU backend. */
  simulateDeviceLoss(): boolean;
}

export default Styler;
