// Type-checked against the installed package's declarations (strict): the whole API as a shop's TypeScript uses
// it, and the mistakes the declarations must reject.
import { Styler, type BackendChoice, type ErrorCode, type ProgressEvent, type StyleInfo, type VitrineError } from 'vitrine';
import DefaultStyler from 'vitrine';

export async function shop(canvas: HTMLCanvasElement, img: HTMLImageElement, bytes: Uint8Array): Promise<ImageData> {
  const choice: BackendChoice = 'auto';
  const styler: Styler = await Styler.create({
    backend: choice,
    model: new URL('./model.safetensors', location.href),
    onProgress: (event: ProgressEvent) => {
      if (event.stage === 'model') console.log(event.loaded, event.total);
      if (event.stage === 'ready') console.log(event.backend);
    },
  });
  await DefaultStyler.create({ model: bytes });
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
  styler.simulateDeviceLoss();
  styler.free();

  // @ts-expect-error: 'gpu' is not a backend
  await Styler.create({ backend: 'gpu' });
  // @ts-expect-error: a Styler comes from Styler.create
  new Styler();
  // @ts-expect-error: a style is an index or a mix, not a name
  await styler.stylize(result, { style: 'Swirling Blues' });
  // @ts-expect-error: a file name is not an image
  await styler.stylize('photo.jpg');
  // @ts-expect-error: backend is read-only
  styler.backend = 'cpu';
  return result;
}
