// The shop's own page around <vitrine-styler>: which photo the element styles (a sample, or the shopper's own,
// chosen, dropped or pasted), the bag, and the page's own note of the backend. Every piece of styling is the
// element's (pkg/element.js).
//
// URL parameters (optional): backend=auto|webgpu|cpu (what the element's Styler gets), max=N (its max-size),
// background=auto|keep|white|transparent|paint (its background: what becomes of a studio photo's backdrop).

const params = new URLSearchParams(location.search);
const styler = document.getElementById('styler');
const backend = params.get('backend');
if (['auto', 'webgpu', 'cpu'].includes(backend)) styler.backend = backend;
if (params.has('max')) styler.setAttribute('max-size', params.get('max'));
if (params.has('background')) styler.setAttribute('background', params.get('background'));

styler.addEventListener('load', (event) => {
  document.documentElement.dataset.backend = event.detail.backend;
});

// Photos: a sample, or the shopper's own as an object URL (the previous one released).
let ownUrl = null;
function showPhoto(src) {
  styler.src = src;
  if (ownUrl && src !== ownUrl) {
    URL.revokeObjectURL(ownUrl);
    ownUrl = null;
  }
}

function useOwnPhoto(blob) {
  if (!blob) return;
  const previous = ownUrl;
  ownUrl = URL.createObjectURL(blob);
  for (const radio of document.querySelectorAll('input[name="photo"]')) radio.checked = false;
  styler.src = ownUrl;
  if (previous) URL.revokeObjectURL(previous);
}

document.getElementById('photo-list').addEventListener('change', (event) => {
  if (event.target.name === 'photo') showPhoto(event.target.value);
});

const file = document.getElementById('file');
file.addEventListener('change', () => {
  useOwnPhoto(file.files?.[0]);
  file.value = '';
});

const hasFiles = (event) => Array.from(event.dataTransfer?.types ?? []).includes('Files');
document.addEventListener('dragover', (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = 'copy';
});
// The element takes pictures dropped or pasted on its gallery as styles; anywhere else, they are photos.
document.addEventListener('drop', (event) => {
  if (!hasFiles(event) || event.defaultPrevented) return;
  event.preventDefault();
  useOwnPhoto(event.dataTransfer.files[0]);
});
document.addEventListener('paste', (event) => {
  const item = Array.from(event.clipboardData?.items ?? []).find((i) => i.kind === 'file');
  if (!item || event.defaultPrevented) return;
  event.preventDefault();
  useOwnPhoto(item.getAsFile());
});

let bag = 0;
document.getElementById('add').addEventListener('click', () => {
  bag += 1;
  document.getElementById('bag-count').textContent = String(bag);
  document.querySelector('.bag').setAttribute('aria-label', `Bag, ${bag} item${bag === 1 ? '' : 's'}`);
  document.getElementById('bag-note').textContent = 'Added to your bag.';
});
