// Unpacking a model package (a zip from the network) without trusting it: yauzl reads the
// central directory, and every entry is checked before a byte is written (names, file type,
// duplicates, count, declared sizes) and again while it inflates (real bytes, ratio, CRC).

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { PerceptError, type ErrorCode } from '../errors.js';

/** The part of yauzl 3's API used here (the package ships no types). */
interface YauzlEntry {
  fileNameRaw: Buffer;
  generalPurposeBitFlag: number;
  extraFields: Array<{ id: number; data: Buffer }>;
  versionMadeBy: number;
  externalFileAttributes: number;
  compressedSize: number;
  uncompressedSize: number;
  compressionMethod: number;
  crc32: number;
  isEncrypted(): boolean;
}
interface YauzlZip {
  entryCount: number;
  readEntry(): void;
  openReadStream(e: YauzlEntry, cb: (err: Error | null, s: Readable) => void): void;
  close(): void;
  on(ev: 'entry', f: (e: YauzlEntry) => void): this;
  on(ev: 'end', f: () => void): this;
  on(ev: 'error', f: (e: Error) => void): this;
  removeListener(ev: string, f: (...a: never[]) => void): this;
}
interface Yauzl {
  open(file: string, opts: Record<string, boolean>, cb: (err: Error | null, zip: YauzlZip) => void): void;
  getFileNameLowLevel(flags: number, raw: Buffer, extra: YauzlEntry['extraFields'], strict: boolean): string;
  validateFileName(name: string): string | null;
}
const yauzl = createRequire(import.meta.url)('yauzl') as Yauzl;

export const MAX_ENTRIES = 64;
export const MAX_RATIO = 100;

export interface UnzipLimits {
  /** Bound on the uncompressed bytes of all entries together. */
  maxBytes: number;
  maxEntries?: number;
  maxRatio?: number;
}

export interface UnzippedFile {
  /** Path inside the package, with `/` separators. */
  name: string;
  size: number;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

function fail(code: ErrorCode, message: string, cause?: unknown): PerceptError {
  return new PerceptError(code, `model package: ${message}`, cause === undefined ? undefined : { cause });
}

/** Why `name` may not be written under the destination, or null when it may. */
function unsafeName(name: string): string | null {
  if (name === '' || name.includes('\0')) return 'an empty name or one with a NUL byte';
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) return 'an absolute path';
  if (name.split(/[\\/]/).includes('..')) return "a '..' path segment";
  if (name.includes('\\')) return 'a backslash';
  return yauzl.validateFileName(name);
}

/**
 * Unpacks `zipFile` into the empty folder `dest` (created). Directories are created, regular
 * files written; anything else refuses the whole package with a typed ERR_PACKAGE_* error.
 * On failure `dest` may hold part of the package: the caller unpacks into a temporary folder.
 */
export async function unzip(zipFile: string, dest: string, limits: UnzipLimits): Promise<UnzippedFile[]> {
  const maxEntries = limits.maxEntries ?? MAX_ENTRIES;
  const maxRatio = limits.maxRatio ?? MAX_RATIO;
  const zip = await new Promise<YauzlZip>((resolve, reject) =>
    // decodeStrings off: names are checked here, with our own codes, not yauzl's messages.
    yauzl.open(zipFile, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: true }, (err, z) =>
      err
        ? reject(fail('ERR_PACKAGE_CORRUPT', `not a readable zip (${err.message}); the download may be truncated: publish the package again`, err))
        : resolve(z),
    ),
  );
  try {
    if (zip.entryCount > maxEntries)
      throw fail(
        'ERR_PACKAGE_TOO_MANY_ENTRIES',
        `${zip.entryCount} entries, more than the ${maxEntries} allowed; a model package holds a manifest, a model and labels`,
      );
    fs.mkdirSync(dest, { recursive: true });
    const seen = new Set<string>();
    const files: UnzippedFile[] = [];
    let total = 0;
    const next = () =>
      new Promise<YauzlEntry | null>((resolve, reject) => {
        const onEntry = (e: YauzlEntry) => done(() => resolve(e));
        const onEnd = () => done(() => resolve(null));
        const onError = (e: Error) => done(() => reject(fail('ERR_PACKAGE_CORRUPT', `${e.message}; publish the package again`, e)));
        const done = (f: () => void) => {
          zip.removeListener('entry', onEntry);
          zip.removeListener('end', onEnd);
          zip.removeListener('error', onError);
          f();
        };
        zip.on('entry', onEntry).on('end', onEnd).on('error', onError);
        zip.readEntry();
      });
    for (let e = await next(); e; e = await next()) {
      const name = yauzl.getFileNameLowLevel(e.generalPurposeBitFlag, e.fileNameRaw, e.extraFields, false);
      const why = unsafeName(name);
      if (why) throw fail('ERR_PACKAGE_PATH', `entry '${name.slice(0, 200)}' has ${why}; a package holds relative paths inside itself only`);
      const madeByUnix = e.versionMadeBy >>> 8 === 3;
      const mode = (e.externalFileAttributes >>> 16) & S_IFMT;
      const isDir = name.endsWith('/');
      if (madeByUnix && mode !== 0 && mode !== (isDir ? S_IFDIR : S_IFREG)) {
        const kind = mode === 0o120000 ? 'a symbolic link' : `a special file (type ${mode.toString(8)})`;
        throw fail('ERR_PACKAGE_ENTRY_TYPE', `entry '${name}' is ${kind}; a package holds regular files only`);
      }
      const key = name.replace(/\/+$/, '').toLowerCase();
      if (seen.has(key)) throw fail('ERR_PACKAGE_DUPLICATE', `entry '${name}' appears twice (names are compared without case); build the package again`);
      seen.add(key);
      if (e.isEncrypted()) throw fail('ERR_PACKAGE_CORRUPT', `entry '${name}' is encrypted; packages are not encrypted`);
      if (isDir) {
        fs.mkdirSync(path.join(dest, name), { recursive: true });
        continue;
      }
      if (e.compressionMethod !== 0 && e.compressionMethod !== 8)
        throw fail('ERR_PACKAGE_CORRUPT', `entry '${name}' uses compression method ${e.compressionMethod}; only stored and deflate are read`);
      if (total + e.uncompressedSize > limits.maxBytes)
        throw fail(
          'ERR_PACKAGE_TOO_LARGE',
          `uncompressed size passes ${limits.maxBytes} bytes at '${name}'; raise modelUpdate.maxBytes on the device if the model is really this large`,
        );
      const ratioOf = (n: number) => n / Math.max(1, e.compressedSize);
      if (ratioOf(e.uncompressedSize) > maxRatio)
        throw fail(
          'ERR_PACKAGE_BOMB',
          `entry '${name}' would inflate ${Math.round(ratioOf(e.uncompressedSize))} times, more than ${maxRatio}; this is no model file`,
        );
      const out = path.join(dest, name);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      const size = await extract(zip, e, out, name, (n) => {
        // The header's sizes are checked again against the real bytes as they inflate.
        if (total + n > limits.maxBytes) return fail('ERR_PACKAGE_TOO_LARGE', `uncompressed size passes ${limits.maxBytes} bytes at '${name}'`);
        if (ratioOf(n) > maxRatio)
          return fail('ERR_PACKAGE_BOMB', `entry '${name}' inflates more than ${maxRatio} times its compressed size; this is no model file`);
        return null;
      });
      total += size;
      files.push({ name, size });
    }
    return files;
  } finally {
    zip.close();
  }
}

/** Streams one entry into a new file (never through an existing one or a link), checking as it goes. */
function extract(zip: YauzlZip, e: YauzlEntry, out: string, name: string, check: (bytes: number) => PerceptError | null): Promise<number> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(e, (err, stream) => {
      if (err) return reject(fail('ERR_PACKAGE_CORRUPT', `entry '${name}': ${err.message}`, err));
      let fd: number;
      try {
        fd = fs.openSync(out, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
      } catch (e2) {
        stream.destroy();
        return reject(fail('ERR_PACKAGE_DUPLICATE', `entry '${name}' cannot be created (${(e2 as Error).message})`, e2));
      }
      let n = 0;
      let crc = 0;
      let failed = false;
      const stop = (x: PerceptError) => {
        if (failed) return;
        failed = true;
        stream.destroy();
        fs.closeSync(fd);
        reject(x);
      };
      stream.on('data', (chunk: Buffer) => {
        if (failed) return;
        n += chunk.length;
        const bad = check(n);
        if (bad) return stop(bad);
        crc = zlib.crc32(chunk, crc);
        try {
          fs.writeSync(fd, chunk);
        } catch (w) {
          stop(fail('ERR_PACKAGE_TOO_LARGE', `entry '${name}' could not be written (${(w as Error).message}); free space in the state folder`, w));
        }
      });
      stream.on('error', (x: Error) => stop(fail('ERR_PACKAGE_CORRUPT', `entry '${name}': ${x.message}; publish the package again`, x)));
      stream.on('end', () => {
        if (failed) return;
        if (crc >>> 0 !== e.crc32 >>> 0) return stop(fail('ERR_PACKAGE_CORRUPT', `entry '${name}' fails its CRC-32; publish the package again`));
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        resolve(n);
      });
    });
  });
}
