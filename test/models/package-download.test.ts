// Downloading packages from a real HTTPS server (its certificate from a private CA, as the
// emulator's): trusted only through the CA given, redirects bounded, 404, size caps from the
// header and from the stream, a stall, plain HTTP refused, and resumption with Range after a
// dropped connection and from a partial file left by a reboot.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import { ensureCerts } from '../../src/emulator/certs.js';
import { download, type DownloadOptions } from '../../src/models/download.js';
import { PerceptError, type ErrorCode } from '../../src/errors.js';
import { tempDir } from '../helpers/paths.js';
import { at } from '../helpers/at.js';

const dir = tempDir('percept-dl-');
const body = crypto.randomBytes(300_000);
const ranges: string[] = [];
let dropped = false;
let ca = '';
let base = '';
let plain = '';
const sockets = new Set<net.Socket>();
let servers: Array<http.Server> = [];

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = req.url ?? '';
  if (req.headers.range) ranges.push(`${url} ${req.headers.range}`);
  const send = (data: Buffer) => {
    const m = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    const start = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, {
      'content-length': String(data.length - start),
      ...(m ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    return data.subarray(start);
  };
  if (url === '/pkg.zip') return void res.end(send(body));
  const r = /^\/redirect\/(\d+)$/.exec(url);
  if (r) {
    res.writeHead(302, { location: Number(r[1]) > 0 ? `/redirect/${Number(r[1]) - 1}` : '/pkg.zip' });
    return void res.end();
  }
  if (url === '/to-plain') {
    res.writeHead(302, { location: `${plain}/pkg.zip` });
    return void res.end();
  }
  if (url === '/drop-once') {
    const rest = send(body);
    if (dropped) return void res.end(rest);
    dropped = true;
    // Half the file, then the connection goes away.
    res.write(rest.subarray(0, 100_000), () => setTimeout(() => req.socket.destroy(), 50));
    return;
  }
  if (url === '/stall') {
    res.writeHead(200, { 'content-length': String(body.length) });
    res.write(body.subarray(0, 1000));
    return; // and nothing more
  }
  if (url === '/big') {
    res.writeHead(200, { 'content-length': String(50_000_000) });
    return void res.end();
  }
  if (url === '/big-chunked') {
    // No length: the cap must hold while streaming.
    res.writeHead(200);
    const chunk = Buffer.alloc(64 * 1024);
    const pump = () => {
      while (res.write(chunk)) if (res.writableLength > 4_000_000) break;
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
    return;
  }
  res.writeHead(404);
  res.end('not found');
}

async function listen(s: http.Server): Promise<number> {
  s.on('connection', (c: net.Socket) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as net.AddressInfo).port;
}

before(async () => {
  const tls = ensureCerts(tempDir('percept-dl-ca-'));
  ca = tls.caPem;
  base = `https://127.0.0.1:${await listen(https.createServer({ key: tls.keyPem, cert: tls.certPem }, handler))}`;
  plain = `http://127.0.0.1:${await listen(http.createServer(handler))}`;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

let n = 0;
function opts(url: string, extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return { url, dest: path.join(dir, `f${n++}.part`), maxBytes: 1_000_000, ca: [ca], stallMs: 2000, retries: 1, ...extra };
}

async function refused(o: DownloadOptions, code: ErrorCode): Promise<string> {
  const e = await download(o).then(
    () => assert.fail(`expected ${code}`),
    (x: unknown) => x,
  );
  assert.ok(PerceptError.is(e), String(e));
  assert.equal(e.code, code, e.message);
  return e.message;
}

test('a package downloads over HTTPS trusted through the given CA, with progress', async () => {
  const o = opts(`${base}/pkg.zip`);
  const seen: number[] = [];
  assert.equal(await download({ ...o, onProgress: (got) => seen.push(got) }), body.length);
  assert.deepEqual(fs.readFileSync(o.dest), body);
  assert.equal(seen.at(-1), body.length);
});

test('without the CA the server is not trusted', async () => {
  assert.match(await refused(opts(`${base}/pkg.zip`, { ca: [] }), 'ERR_DOWNLOAD_TLS'), /--ca/);
});

test("the operating system's CA bundle and NODE_EXTRA_CA_CERTS are trusted beside Node's own list", async () => {
  const bundle = path.join(dir, 'os-bundle.pem');
  fs.writeFileSync(bundle, ca);
  const missing = path.join(dir, 'no-such-bundle.pem');
  // The first readable bundle counts.
  const o = opts(`${base}/pkg.zip`, { ca: [], caBundles: [missing, bundle] });
  assert.equal(await download(o), body.length);
  assert.deepEqual(fs.readFileSync(o.dest), body);
  await refused(opts(`${base}/pkg.zip`, { ca: [], caBundles: [missing] }), 'ERR_DOWNLOAD_TLS');
  const saved = process.env.NODE_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = bundle;
  try {
    assert.equal(await download(opts(`${base}/pkg.zip`, { ca: [], caBundles: [missing] })), body.length);
  } finally {
    if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = saved;
  }
});

test('redirects: 5 are followed, 6 are refused', async () => {
  const o = opts(`${base}/redirect/4`);
  assert.equal(await download(o), body.length);
  await refused(opts(`${base}/redirect/5`), 'ERR_DOWNLOAD_REDIRECTS');
});

test('404, a stall, and sizes over the cap are refused with their codes', async () => {
  assert.match(await refused(opts(`${base}/missing.zip?sig=secret`), 'ERR_DOWNLOAD_HTTP'), /HTTP 404/);
  assert.doesNotMatch(await refused(opts(`${base}/missing.zip?sig=secret`), 'ERR_DOWNLOAD_HTTP'), /secret/, 'no query (a SAS token) in messages');
  await refused(opts(`${base}/stall`, { stallMs: 300, retries: 1 }), 'ERR_DOWNLOAD_STALLED');
  await refused(opts(`${base}/big`), 'ERR_DOWNLOAD_TOO_LARGE');
  const o = opts(`${base}/big-chunked`);
  await refused(o, 'ERR_DOWNLOAD_TOO_LARGE');
  assert.ok(fs.statSync(o.dest).size <= o.maxBytes);
});

test('plain HTTP is refused unless allowed', async () => {
  assert.match(await refused(opts(`${plain}/pkg.zip`), 'ERR_DOWNLOAD_INSECURE'), /allowHttp/);
  // An HTTPS URL may not redirect to plain HTTP either.
  await refused(opts(`${base}/to-plain`), 'ERR_DOWNLOAD_INSECURE');
  assert.equal(await download(opts(`${plain}/pkg.zip`, { allowHttp: true })), body.length);
  await refused(opts('file:///etc/passwd'), 'ERR_DOWNLOAD_INSECURE');
});

test('a dropped connection resumes with Range', async () => {
  const o = opts(`${base}/drop-once`, { retries: 2 });
  ranges.length = 0;
  assert.equal(await download(o), body.length);
  assert.deepEqual(fs.readFileSync(o.dest), body);
  assert.equal(ranges.length, 1);
  assert.match(at(ranges, 0), /^\/drop-once bytes=\d+-$/);
  assert.ok(Number(/=(\d+)/.exec(at(ranges, 0))![1]) >= 100_000 - 65536, at(ranges, 0));
});

test('a partial file left by a reboot is resumed, not fetched again', async () => {
  const o = opts(`${base}/pkg.zip`);
  fs.writeFileSync(o.dest, body.subarray(0, 123_456));
  ranges.length = 0;
  assert.equal(await download(o), body.length);
  assert.deepEqual(ranges, ['/pkg.zip bytes=123456-']);
  assert.deepEqual(fs.readFileSync(o.dest), body);
});
