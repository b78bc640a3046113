// vitrine/presets: the same API as `vitrine`; style vectors need transformModel (and predictorModel) options here.
export * from './vitrine.js';
export { default } from './vitrine.js';
