#!/usr/bin/env node
// A small static server for the demo page: 127.0.0.1 only, no dependencies.
//
//   node www/serve.mjs [--port N] [--root DIR]
//
// Serves `www/` (or --root). The page and the package are same-origin, so the
// cross-origin isolation headers below cost nothing and let the package use
// SharedArrayBuffer where it wants to.

import { createServer } from 'node:http';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HOST = '127.0.0.1';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

/** Start serving `root` on 127.0.0.1:`port` (0 picks a free port). Resolves to { server, url }. */
export function serve({ root, port = 0, quiet = true } = {}) {
  const base = path.resolve(root);
  const server = createServer(async (req, res) => {
    const started = Date.now();
    let status = 500;
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        status = 405;
        res.writeHead(status, { Allow: 'GET, HEAD' }).end();
        return;
      }
      const url = new URL(req.url, `http://${HOST}`);
      let rel;
      try {
        rel = decodeURIComponent(url.pathname);
      } catch {
        status = 400;
        res.writeHead(status).end('Bad path');
        return;
      }
      let file = path.join(base, path.normalize(rel));
      if (file !== base && !file.startsWith(base + path.sep)) {
        status = 403;
        res.writeHead(status).end('Forbidden');
        return;
      }
      let stat = await fs.stat(file).catch(() => null);
      if (stat?.isDirectory()) {
        if (!url.pathname.endsWith('/')) {
          status = 301;
          res.writeHead(status, { Location: url.pathname + '/' + url.search }).end();
          return;
        }
        file = path.join(file, 'index.html');
        stat = await fs.stat(file).catch(() => null);
      }
      if (!stat?.isFile()) {
        status = 404;
        res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found');
        return;
      }
      status = 200;
      res.writeHead(status, {
        'Content-Type': MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        'Content-Length': stat.size,
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
        'Cross-Origin-Resource-Policy': 'same-origin',
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      createReadStream(file).pipe(res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    } finally {
      if (!quiet) console.log(`${status} ${req.method} ${req.url} ${Date.now() - started} ms`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve({ server, url: `http://${HOST}:${server.address().port}/` });
    });
  });
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
  };
  const root = opt('--root', path.dirname(fileURLToPath(import.meta.url)));
  const first = Number(opt('--port', process.env.PORT ?? 8000));
  for (let port = first; ; port++) {
    try {
      const { url } = await serve({ root, port, quiet: !args.includes('--log') });
      console.log(`vitrine demo page: ${url}  (serving ${path.relative(process.cwd(), root) || '.'}; Ctrl-C stops it)`);
      return;
    } catch (err) {
      if (err.code !== 'EADDRINUSE' || port - first >= 20 || first === 0) {
        console.error(`error: cannot serve on ${HOST}:${port}: ${err.message}`);
        process.exit(2);
      }
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main();
}
