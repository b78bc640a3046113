// The demo server (www/serve.mjs) under hostile requests and a hostile file system: symlinks out of the root,
// unreadable files, files that vanish or turn into directories mid-request, descriptor exhaustion, FIFOs and
// downloads the client abandons. Each case runs the server in its own process (tests/server/child.mjs), so a crash
// shows up as a dead process instead of taking the runner with it.
//
//   node --test tests/server/        (make server-test)
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import {
  chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync,
} from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const SERVE = path.resolve(here, '..', '..', 'www', 'serve.mjs');
const CHILD = path.join(here, 'child.mjs');
// Root reads every file whatever its mode bits, so the unreadable-file case runs the server as `nobody`.
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

const scratch = mkdtempSync(path.join(os.tmpdir(), 'vitrine-serve-'));
chmodSync(scratch, 0o755);
after(() => rmSync(scratch, { recursive: true, force: true }));

let rootCount = 0;
/** A fresh document root with an index page; `files` maps relative names to contents. */
function makeRoot(files = {}) {
  const root = path.join(scratch, `root${rootCount++}`);
  mkdirSync(root, { mode: 0o755 });
  for (const [name, body] of Object.entries({ 'index.html': '<p>index</p>', ...files })) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true, mode: 0o755 });
    writeFileSync(path.join(root, name), body, { mode: 0o644 });
  }
  return root;
}

// The server and its launcher copied where an unprivileged user can read them, whatever the checkout's modes.
const bin = path.join(scratch, 'bin');
mkdirSync(bin, { mode: 0o755 });
copyFileSync(SERVE, path.join(bin, 'serve.mjs'));
copyFileSync(CHILD, path.join(bin, 'child.mjs'));
chmodSync(path.join(bin, 'serve.mjs'), 0o644);
chmodSync(path.join(bin, 'child.mjs'), 0o644);

const running = new Set();
after(() => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Start the server on `root` in a child process. `nofile` caps its descriptors (ulimit -n); `unprivileged` runs it
 * as nobody when the tests run as root. Resolves to { url, pid, alive(), stderr(), stop() }.
 */
function startServer(root, { nofile, unprivileged = false } = {}) {
  const args = [path.join(bin, 'child.mjs'), path.join(bin, 'serve.mjs'), root];
  const options = { stdio: ['ignore', 'pipe', 'pipe'] };
  if (unprivileged && isRoot) Object.assign(options, { uid: NOBODY, gid: NOBODY });
  const child = nofile
    ? spawn('bash', ['-c', `ulimit -n ${nofile} && exec "$0" "$@"`, process.execPath, ...args], options)
    : spawn(process.execPath, args, options);
  running.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let exited = false;
  child.on('exit', () => {
    exited = true;
    running.delete(child);
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (!stdout.includes('\n')) return;
      const { url, pid } = JSON.parse(stdout.split('\n')[0]);
      resolve({
        url: new URL(url),
        pid,
        alive: () => !exited,
        stderr: () => stderr,
        stop: () => new Promise((done) => (exited ? done() : (child.once('exit', done), child.kill('SIGKILL')))),
      });
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)));
  });
}

/** One GET (or HEAD) on a new connection; resolves to { status, headers, body } or rejects on a socket error. */
function request(server, urlPath, { method = 'GET', timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: server.url.hostname, port: server.url.port, path: urlPath, method, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error(`response to ${urlPath} aborted`)));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer to ${urlPath} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Open descriptors of a process, from /proc (Linux). */
const openDescriptors = (pid) => readdirSync(`/proc/${pid}/fd`).length;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Poll `condition` until it holds or `ms` pass; returns whether it held. */
async function eventually(condition, ms = 3000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (condition()) return true;
    await sleep(25);
  }
  return condition();
}

test('symlinks that lead out of the root are refused, links within it are served', async (t) => {
  const outside = makeRoot({ 'secret.txt': 'outside the root' });
  const root = makeRoot({ 'real.txt': 'inside' });
  symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'secret.txt'));
  symlinkSync(outside, path.join(root, 'elsewhere'));
  symlinkSync('real.txt', path.join(root, 'alias.txt'));
  symlinkSync('/etc', path.join(root, 'etc'));
  const server = await startServer(root);
  t.after(server.stop);

  for (const urlPath of ['/secret.txt', '/elsewhere/secret.txt', '/elsewhere/', '/etc/passwd', '/etc/hostname']) {
    const res = await request(server, urlPath);
    assert.equal(res.status, 403, `${urlPath} leads out of the root and must be refused, got ${res.status}`);
    assert.ok(!res.body.toString().includes('outside the root') && !res.body.toString().includes('root:'), urlPath);
  }
  const alias = await request(server, '/alias.txt');
  assert.equal(alias.status, 200);
  assert.equal(alias.body.toString(), 'inside');
  for (const urlPath of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/x/../../secret.txt']) {
    const res = await request(server, urlPath);
    assert.ok([400, 403, 404].includes(res.status), `${urlPath}: ${res.status}`);
    assert.ok(!res.body.toString().includes('outside the root'), urlPath);
  }
  assert.ok(server.alive());
});

test('a file the server may not read is a 403, and the server keeps serving', async (t) => {
  const root = makeRoot({ 'locked.txt': 'private' });
  chmodSync(path.join(root, 'locked.txt'), 0o000);
  const server = await startServer(root, { unprivileged: true });
  t.after(server.stop);

  const locked = await request(server, '/locked.txt');
  assert.equal(locked.status, 403, `an unreadable file must be refused with 403, got ${locked.status}`);
  assert.ok(!locked.body.toString().includes('private'));
  const index = await request(server, '/index.html');
  assert.equal(index.status, 200);
  assert.ok(server.alive(), `the server died: ${server.stderr()}`);
});

test('a file that vanishes or turns into a directory while requests arrive never crashes the server', async (t) => {
  const body = 'x'.repeat(4096);
  const root = makeRoot({ 'staged.txt': body });
  const server = await startServer(root);
  t.after(server.stop);

  // Another process swaps the path between a file, nothing and a directory as fast as it can.
  const churn = spawn(process.execPath, [
    '-e',
    `const fs = require('fs'); const [staged, target] = process.argv.slice(1);
     const until = Date.now() + 2500;
     while (Date.now() < until) {
       fs.renameSync(staged, target); fs.renameSync(target, staged);
       fs.mkdirSync(target); fs.rmdirSync(target);
     }`,
    path.join(root, 'staged.txt'),
    path.join(root, 'churn.txt'),
  ]);
  running.add(churn);
  const churnDone = new Promise((done) => churn.on('exit', done));
  const seen = new Map();
  let stop = false;
  churnDone.then(() => (stop = true));
  const worker = async () => {
    while (!stop && server.alive()) {
      const res = await request(server, '/churn.txt').catch(() => null);
      if (!res) break; // the connection failed: the checks below say whether the server died
      seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
      assert.ok([200, 301, 404].includes(res.status), `unexpected ${res.status}`);
      if (res.status === 200) assert.equal(res.body.toString(), body, 'a 200 carries the whole file');
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  running.delete(churn);
  assert.ok(server.alive(), `the server died: ${server.stderr()}`);
  assert.equal((await request(server, '/index.html')).status, 200);
  t.diagnostic(`answers while the file churned: ${JSON.stringify(Object.fromEntries(seen))}`);
});

test('a directory without an index page is a 404; a directory URL without its slash is redirected', async (t) => {
  const root = makeRoot({ 'docs/readme.txt': 'hello', 'site/index.html': 'site' });
  mkdirSync(path.join(root, 'docs', 'index.html'), { mode: 0o755 }); // a directory where the index page would be
  const server = await startServer(root);
  t.after(server.stop);

  assert.equal((await request(server, '/docs/')).status, 404);
  const redirect = await request(server, '/site');
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.location, '/site/');
  const index = await request(server, '/site/');
  assert.equal(index.body.toString(), 'site');
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8', 'the index page is served as HTML');
  assert.equal((await request(server, '/docs/readme.txt')).body.toString(), 'hello');
  assert.ok(server.alive());
});

test('a FIFO in the root is a 404 at once, not a request that hangs', async (t) => {
  const root = makeRoot();
  execFileSync('mkfifo', [path.join(root, 'pipe.txt')]);
  const server = await startServer(root);
  t.after(server.stop);

  for (let i = 0; i < 6; i += 1) assert.equal((await request(server, '/pipe.txt', { timeoutMs: 3000 })).status, 404);
  assert.equal((await request(server, '/index.html', { timeoutMs: 3000 })).status, 200);
});

// Sparse, so it costs no disk; larger than the loopback socket buffers, so a download the client does not read
// keeps the server's descriptor open.
const BIG = 64 << 20;

test('running out of descriptors is a 503, and the server recovers once they are free', async (t) => {
  const root = makeRoot();
  truncateSync(path.join(root, 'index.html'), 0);
  writeFileSync(path.join(root, 'big.bin'), '');
  truncateSync(path.join(root, 'big.bin'), BIG);
  // Node itself holds a few dozen descriptors; leave room for a handful of connections and files beyond those.
  const probe = await startServer(root);
  const idle = openDescriptors(probe.pid);
  await probe.stop();
  const server = await startServer(root, { nofile: idle + 8 });
  t.after(server.stop);

  const held = [];
  const statuses = [];
  for (let i = 0; i < 12 && server.alive(); i += 1) {
    const status = await new Promise((resolve) => {
      const req = http.get({ host: server.url.hostname, port: server.url.port, path: '/big.bin', agent: false }, (res) => {
        res.pause(); // keep the download, and the server's descriptor for it, open
        resolve(res.statusCode);
      });
      req.on('error', (err) => resolve(err.code));
      req.setTimeout(5000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      held.push(req);
    });
    statuses.push(status);
    await sleep(20);
  }
  t.diagnostic(`answers with ${idle + 8} descriptors allowed: ${statuses.join(' ')}`);
  assert.ok(server.alive(), `the server died out of descriptors: ${server.stderr().split('\n').slice(0, 6).join('\n')}`);
  assert.ok(statuses.includes(503), `no request met descriptor exhaustion: ${statuses.join(' ')}`);
  assert.ok(statuses.every((s) => [200, 503, 'ECONNRESET'].includes(s)), statuses.join(' '));
  for (const req of held) req.destroy();
  assert.ok(await eventually(() => openDescriptors(server.pid) <= idle + 2), 'descriptors are freed');
  const again = await request(server, '/index.html');
  assert.equal(again.status, 200);
  assert.ok(server.alive());
});

test('downloads the client abandons close their descriptors', async (t) => {
  const root = makeRoot();
  writeFileSync(path.join(root, 'big.bin'), '');
  truncateSync(path.join(root, 'big.bin'), BIG);
  const server = await startServer(root);
  t.after(server.stop);
  assert.equal((await request(server, '/index.html')).status, 200);
  const before = openDescriptors(server.pid);

  const ABORTS = 20;
  for (let i = 0; i < ABORTS; i += 1) {
    await new Promise((resolve, reject) => {
      const req = http.get({ host: server.url.hostname, port: server.url.port, path: '/big.bin', agent: false }, (res) => {
        res.once('data', () => {
          req.destroy(); // the shopper closes the tab mid-download
          resolve();
        });
      });
      req.on('error', (err) => (err.code === 'ECONNRESET' ? resolve() : reject(err)));
    });
  }
  const settled = await eventually(() => openDescriptors(server.pid) <= before);
  const now = openDescriptors(server.pid);
  t.diagnostic(`descriptors before ${before}, after ${ABORTS} aborted downloads ${now}`);
  assert.ok(settled, `${now - before} descriptors leaked by ${ABORTS} aborted downloads`);
  assert.ok(server.alive());
});

test('methods other than GET and HEAD get 405; HEAD sends headers only', async (t) => {
  const root = makeRoot({ 'a.txt': 'abc' });
  const server = await startServer(root);
  t.after(server.stop);
  assert.equal((await request(server, '/a.txt', { method: 'POST' })).status, 405);
  const head = await request(server, '/a.txt', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '3');
  assert.equal(head.body.length, 0);
  assert.equal((await request(server, '/%00')).status, 400);
  assert.equal((await request(server, '/%E0%A4%A')).status, 400);
});
