// The demo server in a process of its own, so a test can crash it, starve it of descriptors (ulimit -n), run it
// as an unprivileged user and count its open descriptors without touching the test runner.
//
//   node tests/server/child.mjs SERVE_MJS ROOT     prints {"url": ..., "pid": ...} on one line once listening
import { pathToFileURL } from 'node:url';

const [serveModule, root] = process.argv.slice(2);
const { serve } = await import(pathToFileURL(serveModule).href);
const { url } = await serve({ root });
process.stdout.write(`${JSON.stringify({ url, pid: process.pid })}\n`);
