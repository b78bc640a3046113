// Type-checked against the installed package's declarations (strict): the whole API as a shop's TypeScript uses
// it, and the mistakes the declarations must reject.
import {
  Styler, type BackendChoice, type BackgroundApplied, type BackgroundMode, type BackgroundReason, type BackgroundReport,
  type ErrorCode, type ModelName, type ProgressEvent, type StyleFile, type StyleInfo, type StyleVector, type StyleVectorMix,
  type StylizedImage, type TilePlan, type VitrineError,
} from 'vitrine';
import DefaultStyler, { VitrineError as ErrorClass, isVitrineError } from 'vitrine';
import { Styler as PresetStyler } from 'vitrine/presets';

export async function shop(canvas: HTMLCanvasElement, img: HTMLImageElement, bytes: Uint8Array): Promise<ImageData> {
  const choice: BackendChoice = 'auto';
  const styler: Styler = await Styler.create({
    backend: choice,
    model: new URL('./model.safetensors', location.href),
    transformModel: 'https://cdn.example/arbitrary_transform.vitrine.safetensors',
    predictorModel: bytes,
    onProgress: (event: ProgressEvent) => {
      if (event.stage === 'model') {
        const which: ModelName = event.model;
        console.log(which, event.loaded, event.total);
      }
      if (event.stage === 'ready') console.log(event.backend);
    },
  });
  await DefaultStyler.create({ model: bytes });
  // Tuning: every image in 64 px tiles, and how a photo would run.
  const tiled = await Styler.create({ backend: 'cpu', tileSize: 64 });
  const plan: TilePlan = await tiled.tilePlan(256, 256);
  const streamed: boolean = plan.mode === 'streamed' && plan.tiles === 16 && plan.tileSize === 64;
  console.log(streamed, plan.halo, plan.hostBytes, plan.deviceBufferBytes);
  const backend: 'webgpu' | 'cpu' = styler.backend;
  const reason: string | null = styler.fallbackReason;
  const styles: readonly StyleInfo[] = styler.styles;
  const first: { id: number; name: string; thumbnail: string | null } = styles[0];
  console.log(backend, reason, first);

  let result: ImageData = await styler.stylize(canvas, { style: 19 });
  result = await styler.stylize(img, { style: { 3: 0.5, 12: 0.5 }, strength: 0.8, preserveColor: true, maxSize: 512 });
  result = await styler.stylize(await createImageBitmap(canvas), { style: [1, 0, 2] });
  result = await styler.stylize(new OffscreenCanvas(64, 64));
  result = await styler.stylize(result);
  try {
    await styler.stylize(result, { style: 99 });
  } catch (e) {
    const code: ErrorCode = (e as VitrineError).code;
    console.log(code === 'STYLE_INDEX', (e as VitrineError).message);
  }
  // A picture's style, saved as JSON and used again; a blend of two.
  const brand: StyleVector = await styler.styleFromImage(img);
  const numbers: number[] = brand.vector;
  const saved: string = JSON.stringify(brand);
  const loaded: StyleFile = JSON.parse(saved);
  result = await styler.stylize(canvas, { style: brand, strength: 0.7 });
  result = await styler.stylize(canvas, { style: loaded });
  result = await styler.stylize(canvas, { style: { ...brand, vector: new Float32Array(numbers) } });
  const blend: StyleVectorMix = { vectors: [{ style: brand, weight: 0.7 }, { style: loaded, weight: 0.3 }, { style: brand }] };
  result = await styler.stylize(canvas, { style: blend });
  const shipped = { format: 'vitrine-style', version: 1, model: 'arbitrary_transform', vector: [0.1, 0.2] } as const;
  result = await styler.stylize(canvas, { style: shipped });
  try {
    await styler.stylize(canvas, { style: loaded });
  } catch (e) {
    if ((e as VitrineError).code === 'STYLE_VECTOR') console.log((e as VitrineError).message);
  }
  // catch (e) narrows through the class or the guard (e is unknown under strict).
  try {
    await styler.stylize(result, { style: 3 });
  } catch (e) {
    if (e instanceof ErrorClass) console.log(e.code satisfies ErrorCode, e.name);
    if (isVitrineError(e)) console.log(e.code satisfies ErrorCode);
  }
  // The backdrop: a mode in, the report out (the CLI's --json record), through finish too.
  const mode: BackgroundMode = 'white';
  const cutout: StylizedImage = await styler.stylize(img, { style: 19, background: 'transparent', maxSize: 0 });
  const report: BackgroundReport = cutout.background;
  const applied: BackgroundApplied = report.applied;
  const why: BackgroundReason | null = report.reason;
  const share: number | null = report.product;
  console.log(report.mode satisfies BackgroundMode, applied, why, share);
  const photo = new ImageData(8, 8);
  const faded: StylizedImage = styler.finish(photo, await styler.stylize(photo, { background: mode }), { strength: 0.5, background: mode });
  result = faded;
  const presets: PresetStyler = await PresetStyler.create({ gpuTimeout: 30_000 });
  await presets.stylize(result, { style: 4 });
  await Styler.create({ gpuTimeout: Infinity });
  styler.simulateDeviceLoss();
  styler.free();

  // @ts-expect-error: 'gpu' is not a backend
  await Styler.create({ backend: 'gpu' });
  // @ts-expect-error: gpuTimeout is a number of milliseconds
  await Styler.create({ gpuTimeout: '30s' });
  // @ts-expect-error: tileSize is a number of pixels
  await Styler.create({ tileSize: '64' });
  // @ts-expect-error: a Styler comes from Styler.create
  new Styler();
  // @ts-expect-error: a style is an index or a mix, not a name
  await styler.stylize(result, { style: 'Swirling Blues' });
  // @ts-expect-error: a style file of another version
  await styler.stylize(result, { style: { format: 'vitrine-style', version: 2, model: 'arbitrary_transform', vector: [1] } });
  // @ts-expect-error: a blend lists { style, weight } entries
  await styler.stylize(result, { style: { vectors: [[0.1, 0.2]] } });
  // @ts-expect-error: styleFromImage takes an image, not a URL
  await styler.styleFromImage('brand.png');
  // @ts-expect-error: a file name is not an image
  await styler.stylize('photo.jpg');
  // @ts-expect-error: backend is read-only
  styler.backend = 'cpu';
  // @ts-expect-error: 'grey' is not a background mode
  await styler.stylize(result, { background: 'grey' });
  // @ts-expect-error: the report is read-only
  cutout.background.applied = 'painted';
  return result;
}
