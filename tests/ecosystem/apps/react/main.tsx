// A shop's React 19 + TypeScript page using <vitrine-styler>, typed by the package's own JSX declarations. Its
// events arrive through the JSX props (React 19 listens under the event's own name), and the page's title says so.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import 'vitrine/element';
import type { VitrineStylizeDetail } from 'vitrine/element';

function ProductPhoto({ src, alt }: { src: string; alt: string }) {
  const onstylize = (event: CustomEvent<VitrineStylizeDetail>) => {
    document.title = `styled ${event.detail.look} in ${Math.round(event.detail.ms)} ms`;
  };
  return (
    <vitrine-styler src={src} alt={alt} look="19" reveal="auto" max-size={800} onstylize={onstylize}
      onerror={(event) => { document.title = `error ${event.detail.code}`; }}>
      <img src={src} alt={alt} />
    </vitrine-styler>
  );
}

// The camelCase form is refused by the types: React 19 would listen for an event called `Stylize`.
// @ts-expect-error onStylize is not one of the element's props
export const camelCase = <vitrine-styler onStylize={() => {}} />;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <h1>Enamel mug</h1>
    <ProductPhoto src="mug.jpg" alt="Blue enamel mug" />
  </StrictMode>,
);
