// Declarations for <vitrine-styler> (`import 'vitrine/element'`): the element class, its events, and the JSX
// intrinsic element for React + TypeScript apps and the HTMLElementTagNameMap entry for the DOM.

import type { BackgroundMode, BackgroundReport, ErrorCode } from './vitrine.js';

/** A look: 'none' (the photo), a preset index ('19'), a mix of two presets ('3:0.5,12:0.5') or a style's id. */
export type VitrineLook = string;

export interface VitrineLookDetail {
  look: VitrineLook;
  /** A readable name of the look, in the element's language. */
  name: string;
  /** The look as `Styler.stylize` takes it: a preset index, a mix `{ 3: 0.5, 12: 0.5 }`, a style file, or null. */
  style: number | Record<number, number> | { format: 'vitrine-style'; version: number; model: string; vector: number[] } | null;
  strength: number;
  preserveColor: boolean;
}

export interface VitrineLookChangeDetail extends VitrineLookDetail {
  /** 'user' (the shopper), 'attribute' (the page), or 'remembered' (the last look on this device). */
  source: 'user' | 'attribute' | 'remembered';
}

export interface VitrineStylizeDetail extends VitrineLookDetail {
  /** Milliseconds the network took (the first time this look was painted). */
  ms: number;
  cached: boolean;
  width: number;
  height: number;
  /** What was done with the photo's backdrop (`applied`: `'kept'`, `'white'`, `'transparent'` or `'painted'`). */
  background: BackgroundReport;
}

export interface VitrineProgressDetail {
  stage: 'module' | 'wasm' | 'model' | 'backend' | 'ready';
  model?: 'presets' | 'transform' | 'predictor';
  loaded: number;
  /** 0 when unknown. */
  total: number;
}

export interface VitrineLoadDetail {
  backend: 'webgpu' | 'cpu';
  fallbackReason: string | null;
}

/** The codes only the element gives, beside the package's `ErrorCode`s. */
export type VitrineElementErrorCode =
  /** The styling worker stopped; the element starts a new one and tries once more. */
  | 'WORKER_FAILED'
  /** `toBlob()` or a snapshot before anything is styled or playing live. */
  | 'NOT_STYLED'
  /** The worker was asked before its engine loaded, for a photo it no longer holds, or something it does not know
   * (a bug in the element: report it). */
  | 'NOT_READY'
  | 'NO_PHOTO'
  | 'BAD_MESSAGE'
  /** Live mode: camera permission refused, no camera, a camera another app holds, a camera that stopped. */
  | 'CAMERA_REFUSED'
  | 'CAMERA_MISSING'
  | 'CAMERA_BUSY'
  | 'CAMERA_LOST'
  /** Live mode: no `video` attribute, or the clip would not play. */
  | 'VIDEO_FAILED';

export interface VitrineErrorDetail {
  code: ErrorCode | VitrineElementErrorCode;
  message: string;
}

export interface VitrineStylerEventMap extends Omit<HTMLElementEventMap, 'load' | 'progress' | 'error'> {
  load: CustomEvent<VitrineLoadDetail>;
  progress: CustomEvent<VitrineProgressDetail>;
  stylize: CustomEvent<VitrineStylizeDetail>;
  error: CustomEvent<VitrineErrorDetail>;
  'look-change': CustomEvent<VitrineLookChangeDetail>;
}

/** Every text the element shows; assign some to `element.strings` (or the JSON child's "strings"). */
export declare const STRINGS: Readonly<Record<string, string>>;

export declare class VitrineStyler extends HTMLElement {
  src: string;
  alt: string;
  /** Which looks the gallery offers, in order: preset indices and shop style ids, comma-separated. */
  looks: string;
  look: VitrineLook;
  strength: number;
  preserveColor: boolean;
  loading: 'eager' | 'lazy';
  reveal: 'interaction' | 'auto';
  maxSize: number;
  /** What becomes of a plain studio backdrop: `'auto'` (default; kept, the product painted), `'keep'`, `'white'`,
   * `'transparent'` or `'paint'` (the whole photo). Any other value reads as `'auto'`. Live frames are painted whole. */
  background: BackgroundMode;
  remember: boolean;
  /** The URL of the shop's product clip, which Live mode can paint as it plays. */
  video: string;
  /** 'auto' (default), 'webgpu' or 'cpu'; set before styling starts. */
  backend: 'auto' | 'webgpu' | 'cpu';
  strings: Record<string, string>;
  readonly loaded: boolean;
  readonly busy: boolean;
  readonly shownLook: VitrineLook | null;
  readonly gallery: ReadonlyArray<{ look: VitrineLook; name: string; kind: 'preset' | 'shop' | 'own' }>;
  readonly error: VitrineErrorDetail | null;
  /** Starts the engine and shows the gallery, as a first interaction does. */
  start(): Promise<void>;
  /** A PNG of the styled photo at the photo's own size (what the download gives). */
  toBlob(): Promise<Blob>;
  forgetLook(): void;
  /** Paints the camera or the `video` clip live over the photo; resolves once the first frame shows. A refused,
   * missing or lost camera rejects with its code, says so in the status line, and the photo stays. */
  startLive(kind?: 'camera' | 'video'): Promise<void>;
  /** Ends Live mode; resolves to its last figures. */
  stopLive(): Promise<import('./vitrine.js').LiveStats | null>;
  /** A PNG of the live frame on show (what the snapshot button saves). */
  snapshot(): Promise<Blob>;
  /** The live session's figures, or null when nothing plays live. */
  readonly liveStats: import('./vitrine.js').LiveStats | null;
  /** Testing aids. */
  simulateCameraLoss(): boolean;
  simulateDeviceLoss(): Promise<boolean>;
  simulateWorkerCrash(): Promise<void>;
  addEventListener<K extends keyof VitrineStylerEventMap>(type: K, listener: (this: VitrineStyler, ev: VitrineStylerEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof VitrineStylerEventMap>(type: K, listener: (this: VitrineStyler, ev: VitrineStylerEventMap[K]) => unknown, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

export default VitrineStyler;

/** The attributes as JSX takes them (React 19 passes unknown props of a custom element as attributes/properties). */
export interface VitrineStylerAttributes {
  src?: string;
  alt?: string;
  looks?: string;
  look?: VitrineLook;
  strength?: number | string;
  'preserve-color'?: boolean | '';
  loading?: 'eager' | 'lazy';
  reveal?: 'interaction' | 'auto';
  'max-size'?: number | string;
  background?: BackgroundMode;
  remember?: boolean | '';
  video?: string;
  id?: string;
  class?: string;
  className?: string;
  style?: unknown;
  slot?: string;
  children?: unknown;
  ref?: unknown;
  key?: string | number;
  // React 19 adds a listener for an `on...` prop of a custom element under the name after `on`, as written, so the
  // props are the events' own lowercase names (`onStylize` would listen for an event called `Stylize`).
  onload?: (event: CustomEvent<VitrineLoadDetail>) => void;
  onprogress?: (event: CustomEvent<VitrineProgressDetail>) => void;
  onstylize?: (event: CustomEvent<VitrineStylizeDetail>) => void;
  onerror?: (event: CustomEvent<VitrineErrorDetail>) => void;
  'onlook-change'?: (event: CustomEvent<VitrineLookChangeDetail>) => void;
}

declare global {
  interface HTMLElementTagNameMap {
    'vitrine-styler': VitrineStyler;
  }
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace JSX {
    interface IntrinsicElements {
      'vitrine-styler': VitrineStylerAttributes;
    }
  }
}

declare module 'react' {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace JSX {
    interface IntrinsicElements {
      'vitrine-styler': VitrineStylerAttributes;
    }
  }
}
