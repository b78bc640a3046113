// The live API as a strict TypeScript page compiles against the package's declarations (tests/live/run.mjs).
import { Styler, type Live, type LiveStats } from 'vitrine';
const styler = await Styler.create();
const video = document.createElement('video');
const live: Live = await styler.live(video, document.createElement('canvas'), { style: 19, strength: 0.8, targetFps: 24, minSide: 64, maxSide: 320, onFrame: (d) => console.log(d.width, d.latencyMs) });
live.update({ strength: 0.5, preserveColor: true });
const stats: LiveStats = live.stats;
const png: Blob = await live.snapshot();
await live.stop();
console.log(stats.framesShown, stats.readbacks, png.size);
import 'vitrine/element';
const el = document.querySelector('vitrine-styler');
await el?.startLive('camera');
console.log(el?.liveStats?.fps);
export {};
