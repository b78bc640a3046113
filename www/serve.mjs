#!/usr/bin/env node
// A small static server for the demo page: 127.0.0.1 only, no dependencies.
//
//   node www/serve.mjs [--port N] [--root DIR]
//
// Serves `www/` (or --root). The page and the package are same-origin, so the
// cross-origin isolation headers below cost nothing and let the package use
// SharedArrayBuffer where it wants to.

import { createServer } from 'node:http';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream';
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

// Non-blocking, so a FIFO in the tree cannot hold a libuv thread forever (reads of regular files ignore the flag);
// no O_NOFOLLOW: links are resolved with realpath first and only followed when they stay in the root.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

// A request leaves at least this many descriptors free, so the server can always accept the next connection and
// answer it 503: once accept itself fails, all a client sees is a reset connection.
const DESCRIPTOR_RESERVE = 4;

/** This process's soft descriptor limit (Linux /proc), or Infinity where it is unknown or unlimited. */
async function descriptorLimit() {
  try {
    const limits = await fs.readFile('/proc/self/limits', 'utf8');
    const soft = limits.match(/^Max open files\s+(\S+)/m)?.[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : Infinity;
  } catch {
    return Infinity;
  }
}

/** Descriptors still free under `limit`: 0 when even listing them fails for want of one. */
async function descriptorsFree(limit) {
  if (limit === Infinity) return Infinity;
  try {
    // The listing holds one descriptor of its own while it runs.
    return limit - ((await fs.readdir('/proc/self/fd')).length - 1);
  } catch (err) {
    return err.code === 'EMFILE' || err.code === 'ENFILE' ? 0 : Infinity;
  }
}

/** The answer to a file-system error: what the client may know, never the server's paths. */
function failure(err) {
  switch (err?.code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ELOOP':
    case 'ENAMETOOLONG':
    case 'ENXIO':
      return [404, 'Not found'];
    case 'EACCES':
    case 'EPERM':
      return [403, 'Forbidden'];
    case 'EMFILE':
    case 'ENFILE':
      return [503, 'Too busy, try again'];
    default:
      return [500, 'Internal error'];
  }
}

/** Start serving `root` on 127.0.0.1:`port` (0 picks a free port). Resolves to { server, url }. */
export async function serve({ root, port = 0, quiet = true } = {}) {
  // The root's own real path: everything served must resolve inside it, through whatever links.
  const base = await fs.realpath(path.resolve(root));
  const inside = (file) => file === base || file.startsWith(base + path.sep);
  const limit = await descriptorLimit();

  /**
   * The file a request names, opened: its real path must lie inside the root, and the descriptor's own stat (not
   * the path's, which may change under us) says what it is. A directory is redirected to its slash or opened at
   * its index page (`index` is set for that page, which must be a file). Resolves to { handle, stat, file } or
   * { redirect } or throws a file-system error (or one with `status`).
   */
  async function open(requested, pathname, index = false) {
    const real = await fs.realpath(requested);
    if (!inside(real)) throw Object.assign(new Error('outside the root'), { status: 403 });
    const handle = await fs.open(real, OPEN_FLAGS);
    try {
      const stat = await handle.stat();
      if (stat.isFile()) return { handle, stat, file: real };
      if (index || !stat.isDirectory()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      await handle.close();
      if (!pathname.endsWith('/')) return { redirect: true };
      return open(path.join(real, 'index.html'), pathname, true);
    } catch (err) {
      await handle.close().catch(() => {});
      throw err;
    }
  }

  const server = createServer(async (req, res) => {
    const started = Date.now();
    let status = 500;
    const answer = (code, text, headers = {}) => {
      status = code;
      res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(text);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        answer(405, 'Method not allowed', { Allow: 'GET, HEAD' });
        return;
      }
      const url = new URL(req.url, `http://${HOST}`);
      let rel;
      try {
        rel = decodeURIComponent(url.pathname);
      } catch {
        answer(400, 'Bad path');
        return;
      }
      if (rel.includes('\0')) {
        answer(400, 'Bad path');
        return;
      }
      const requested = path.join(base, path.normalize(rel));
      if (!inside(requested)) {
        answer(403, 'Forbidden');
        return;
      }
      if ((await descriptorsFree(limit)) < DESCRIPTOR_RESERVE) {
        answer(...failure({ code: 'EMFILE' }), { 'Retry-After': '1' });
        return;
      }
      let opened;
      try {
        opened = await open(requested, url.pathname);
      } catch (err) {
        const [code, text] = err.status ? [err.status, 'Forbidden'] : failure(err);
        answer(code, text, code === 503 ? { 'Retry-After': '1' } : {});
        return;
      }
      if (opened.redirect) {
        status = 301;
        res.writeHead(status, { Location: url.pathname + '/' + url.search }).end();
        return;
      }
      const { handle, stat, file } = opened;
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
      if (req.method === 'HEAD' || stat.size === 0) {
        await handle.close();
        res.end();
        return;
      }
      // pipeline destroys the file stream (closing its descriptor) when the client goes away or a read fails; the
      // length sent is the one promised, even if the file grows meanwhile.
      const body = handle.createReadStream({ start: 0, end: stat.size - 1 });
      pipeline(body, res, (err) => {
        if (err && !quiet && err.code !== 'ERR_STREAM_PREMATURE_CLOSE') console.error(`${req.url}: ${err.message}`);
      });
    } catch (err) {
      if (!res.headersSent) answer(...failure(err));
      else res.destroy();
      if (!quiet) console.error(`${req.url}: ${err.message}`);
    } finally {
      if (!quiet) console.log(`${status} ${req.method} ${req.url} ${Date.now() - started} ms`);
    }
  });
  // A malformed request or a connection reset before the answer is that client's problem, never the server's.
  server.on('clientError', (err, socket) => {
    if (socket.writable && err.code !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    else socket.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      // Past listening, an accept that fails (EMFILE) must not end the process: log it and keep serving.
      server.on('error', (err) => {
        if (!quiet) console.error(`server: ${err.message}`);
      });
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
