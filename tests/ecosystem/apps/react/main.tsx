// A shop's React 19 + TypeScript page using <vitrine-styler>, typed by the package's own JSX declarations.
import { StrictMode, useEffect, useRef } from 'react';
import { createRoot } from 'react-dom/client';
import 'vitrine/element';
import type { VitrineStyler } from 'vitrine/element';

function ProductPhoto({ src, alt }: { src: string; alt: string }) {
  const ref = useRef<VitrineStyler>(null);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const onStylize = (event: CustomEvent<{ look: string; ms: number }>) => {
      document.title = `styled ${event.detail.look} in ${Math.round(event.detail.ms)} ms`;
    };
    element.addEventListener('stylize', onStylize);
    return () => element.removeEventListener('stylize', onStylize);
  }, []);
  return (
    <vitrine-styler ref={ref} src={src} alt={alt} look="19" reveal="auto" max-size={512}>
      <img src={src} alt={alt} />
    </vitrine-styler>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <h1>Enamel mug</h1>
    <ProductPhoto src="mug.jpg" alt="Blue enamel mug" />
  </StrictMode>,
);
