// Downloading a model package with node:https (never a shell): TLS verified against the system
// CAs plus the ones the device was given, HTTPS only unless allowed, bounded redirects and size,
// a stall timeout, and resumption with Range into a partial file that survives a reboot.

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { PerceptError, type ErrorCode } from '../errors.js';

export interface DownloadOptions {
  url: string;
  /** The partial file: appended to when it exists (a resumed download), complete on success. */
  dest: string;
  maxBytes: number;
  allowHttp?: boolean;
  /** Extra CA certificates (PEM), trusted beside the system's. */
  ca?: readonly string[];
  /** Where the operating system's CA bundle is looked for, the first readable one (default SYSTEM_CA_BUNDLES). */
  caBundles?: readonly string[];
  /** No byte for this long fails the attempt (default 30 s). */
  stallMs?: number;
  maxRedirects?: number;
  /** Attempts resumed after a dropped connection or a stall (default 3). */
  retries?: number;
  /** Called at most once a second, and once at the end. */
  onProgress?: (received: number, total: number | null) => void;
  signal?: AbortSignal;
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_NOT_YET_VALID',
]);

/** The operating system's CA bundle on Debian, Ubuntu and Alpine; Fedora and RHEL; openSUSE. */
export const SYSTEM_CA_BUNDLES: readonly string[] = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem'];

/** A PEM bundle far larger than any system's is not read. */
const MAX_BUNDLE_BYTES = 8 * 1024 * 1024;

function readBundle(file: string): string | null {
  try {
    const st = fs.statSync(file);
    return st.isFile() && st.size <= MAX_BUNDLE_BYTES ? fs.readFileSync(file, 'utf8') : null;
  } catch {
    return null;
  }
}

/**
 * What a download trusts: Node's bundled CAs, the operating system's bundle (where a device's
 * image adds its own CAs), the file NODE_EXTRA_CA_CERTS names, and `extra` (--ca and
 * modelUpdate.caFiles). Node applies NODE_EXTRA_CA_CERTS and its own list only when no `ca` is
 * given, so all of them are given here.
 */
export function trustedCas(extra: readonly string[] = [], bundles: readonly string[] = SYSTEM_CA_BUNDLES): string[] {
  const out: string[] = [...tls.rootCertificates];
  for (const f of bundles) {
    const pem = readBundle(f);
    if (pem) {
      out.push(pem);
      break;
    }
  }
  const fromEnv = process.env.NODE_EXTRA_CA_CERTS;
  const pem = fromEnv ? readBundle(fromEnv) : null;
  if (pem) out.push(pem);
  return [...out, ...extra];
}

function err(code: ErrorCode, message: string, cause?: unknown): PerceptError {
  return new PerceptError(code, `model download: ${message}`, cause === undefined ? undefined : { cause });
}

/** The URL without credentials or query (which may hold a SAS token), for messages. */
export function safeUrl(u: string): string {
  try {
    const x = new URL(u);
    return `${x.protocol}//${x.host}${x.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

/**
 * Failures of the network or of a server that may be back later: the partial file is kept and
 * the download is tried again from where it ends. Every other download error is permanent for
 * that URL (refused, missing, too large, untrusted).
 */
export const TRANSIENT_DOWNLOAD_CODES: ReadonlySet<ErrorCode> = new Set(['ERR_DOWNLOAD', 'ERR_DOWNLOAD_STALLED', 'ERR_DOWNLOAD_UNAVAILABLE']);

/** HTTP answers that mean "later", not "no". */
const UNAVAILABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** A failure worth another attempt from where the partial file ends. */
class Dropped extends Error {
  constructor(
    readonly stalled: boolean,
    message: string,
  ) {
    super(message);
  }
}

/** Downloads `url` into `dest`; returns its size. Rejects with ERR_DOWNLOAD_* codes. */
export async function download(o: DownloadOptions): Promise<number> {
  const retries = o.retries ?? 3;
  let last: Dropped | null = null;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 5000)));
    try {
      return await attemptOnce(o);
    } catch (e) {
      if (!(e instanceof Dropped)) throw e;
      last = e;
    }
  }
  const code = last?.stalled ? 'ERR_DOWNLOAD_STALLED' : 'ERR_DOWNLOAD';
  throw err(
    code,
    `${safeUrl(o.url)}: ${last?.message} (after ${retries + 1} attempts); check the network and the server; the download is tried again later, from where it stopped`,
  );
}

function partialSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

async function attemptOnce(o: DownloadOptions): Promise<number> {
  let url = o.url;
  for (let hop = 0; ; hop++) {
    const r = await request(url, o);
    if ('redirect' in r) {
      if (hop >= (o.maxRedirects ?? 5))
        throw err('ERR_DOWNLOAD_REDIRECTS', `more than ${o.maxRedirects ?? 5} redirects from ${safeUrl(o.url)}; give the final URL`);
      url = r.redirect;
      continue;
    }
    return r.size;
  }
}

function request(url: string, o: DownloadOptions): Promise<{ redirect: string } | { size: number }> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(err('ERR_CONFIG', 'the package URL is not a URL; give an https:// URL'));
  }
  if (u.protocol === 'http:' && !o.allowHttp) {
    return Promise.reject(
      err('ERR_DOWNLOAD_INSECURE', `${safeUrl(url)} is plain HTTP; serve the package over HTTPS (or set modelUpdate.allowHttp in the device's configuration)`),
    );
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    return Promise.reject(err('ERR_DOWNLOAD_INSECURE', `${u.protocol} URLs are not fetched; give an https:// URL`));
  const have = partialSize(o.dest);
  const stallMs = o.stallMs ?? 30_000;
  const ca = u.protocol === 'https:' ? trustedCas(o.ca, o.caBundles) : [];
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => {
      if (!settled) {
        settled = true;
        f();
      }
    };
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request(u, {
      method: 'GET',
      headers: { 'user-agent': 'percept', ...(have > 0 ? { range: `bytes=${have}-` } : {}) },
      ...(u.protocol === 'https:' ? { ca, rejectUnauthorized: true } : {}),
      signal: o.signal,
    });
    let stalled = false;
    req.setTimeout(stallMs, () => {
      stalled = true;
      req.destroy(new Dropped(true, `no data for ${stallMs} ms`));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof Dropped) return settle(() => reject(e));
      if (e.code && TLS_CODES.has(e.code))
        return settle(() =>
          reject(
            err('ERR_DOWNLOAD_TLS', `${safeUrl(url)}: the server's certificate is not trusted (${e.code}); give its CA with --ca or modelUpdate.caFiles`, e),
          ),
        );
      if (e.name === 'AbortError') return settle(() => reject(err('ERR_DOWNLOAD', 'cancelled', e)));
      settle(() => reject(new Dropped(false, e.message)));
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status)) {
        res.resume();
        const loc = res.headers.location;
        if (!loc) return settle(() => reject(err('ERR_DOWNLOAD_HTTP', `${safeUrl(url)} redirects (${status}) without a Location`)));
        return settle(() => resolve({ redirect: new URL(loc, u).toString() }));
      }
      if (status === 416 && have > 0) {
        // The partial file is whole already (or longer than the file): start again if it is not.
        res.resume();
        const total = Number(/\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''))?.[1]);
        if (total === have) return settle(() => resolve({ size: have }));
        fs.truncateSync(o.dest, 0);
        return settle(() => reject(new Dropped(false, 'the partial download does not fit the file on the server; starting again')));
      }
      if (UNAVAILABLE.has(status)) {
        res.resume();
        return settle(() =>
          reject(err('ERR_DOWNLOAD_UNAVAILABLE', `${safeUrl(url)} answered HTTP ${status}; the download is tried again later, from where it stopped`)),
        );
      }
      if (status !== 200 && status !== 206) {
        res.resume();
        return settle(() => reject(err('ERR_DOWNLOAD_HTTP', `${safeUrl(url)} answered HTTP ${status}; check the package URL (a SAS URL may have expired)`)));
      }
      let start = 0;
      let total: number | null = null;
      if (status === 206) {
        const m = /bytes (\d+)-\d+\/(\d+|\*)/.exec(String(res.headers['content-range'] ?? ''));
        if (!m || Number(m[1]) !== have) {
          res.resume();
          fs.truncateSync(o.dest, 0);
          return settle(() => reject(new Dropped(false, 'the server resumed at another offset; starting again')));
        }
        start = have;
        total = m[2] === '*' ? null : Number(m[2]);
      } else {
        const len = res.headers['content-length'];
        total = len !== undefined ? Number(len) : null;
      }
      if (total !== null && total > o.maxBytes) {
        res.destroy();
        return settle(() =>
          reject(
            err(
              'ERR_DOWNLOAD_TOO_LARGE',
              `${safeUrl(url)} is ${total} bytes, more than modelUpdate.maxBytes (${o.maxBytes}); raise it in the device's configuration if the model is really this large`,
            ),
          ),
        );
      }
      // A 200 replaces whatever partial file there was.
      const fd = fs.openSync(o.dest, status === 206 ? 'a' : 'w', 0o600);
      let n = start;
      let lastProgress = 0;
      const progress = (force: boolean) => {
        const now = Date.now();
        if (!force && now - lastProgress < 1000) return;
        lastProgress = now;
        o.onProgress?.(n, total);
      };
      const close = () => {
        try {
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
      };
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        n += chunk.length;
        if (n > o.maxBytes) {
          close();
          res.destroy();
          return settle(() =>
            reject(
              err(
                'ERR_DOWNLOAD_TOO_LARGE',
                `${safeUrl(url)} sent more than modelUpdate.maxBytes (${o.maxBytes}); raise it in the device's configuration if the model is really this large`,
              ),
            ),
          );
        }
        fs.writeSync(fd, chunk);
        progress(false);
      });
      res.on('error', () => undefined);
      res.on('close', () => {
        if (settled) return;
        close();
        if (!res.complete || (total !== null && n !== total))
          return settle(() => reject(new Dropped(stalled, stalled ? `no data for ${stallMs} ms after ${n} bytes` : `connection dropped after ${n} bytes`)));
        progress(true);
        settle(() => resolve({ size: n }));
      });
    });
    req.end();
  });
}
