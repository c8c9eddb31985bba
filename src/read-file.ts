// Reading a file named by configuration (manifest, labels, model, PEM, config): only regular
// files, up to a size cap per kind. A FIFO, device or socket opened with a plain read blocks
// forever, so the file is opened non-blocking and its descriptor checked before any read.

import fs from 'node:fs';
import { PerceptError, type ErrorCode } from './errors.js';

/** Caps per kind of file: text files are small, model weights are not. */
export const FILE_CAPS = {
  manifest: 1024 * 1024,
  labels: 1024 * 1024,
  config: 1024 * 1024,
  pem: 256 * 1024,
  model: 1024 * 1024 * 1024,
} as const;

export interface ReadOptions {
  /** What the file is, for messages: "model manifest", "labels file", "CA certificate (--ca)". */
  what: string;
  maxBytes: number;
  /** Code when the file cannot be opened (missing, no permission). */
  openCode: ErrorCode;
  /** Appended to every message: what to do next. */
  hint: string;
}

// O_NONBLOCK makes open() of a FIFO with no writer return at once instead of waiting; a regular
// file ignores the flag. O_NOCTTY keeps a terminal device from becoming the controlling one.
const FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY;

/** Reads a regular file without blocking the event loop; typed errors for everything else. */
export async function readRegularFile(file: string, opts: ReadOptions): Promise<Buffer> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, FLAGS);
  } catch (e) {
    throw openError(file, e, opts);
  }
  try {
    const size = checkStat(file, await fh.stat(), opts);
    // Read at most one byte past the cap: a file that grew after fstat is still refused.
    const buf = Buffer.allocUnsafe(Math.min(size, opts.maxBytes) + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, null);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got === buf.length) break;
    }
    if (got > opts.maxBytes) throw tooLarge(file, got, opts);
    return buf.subarray(0, got);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** The same for small files read while starting, where the caller is synchronous. */
export function readRegularFileSync(file: string, opts: ReadOptions): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, FLAGS);
  } catch (e) {
    throw openError(file, e, opts);
  }
  try {
    const size = checkStat(file, fs.fstatSync(fd), opts);
    const buf = Buffer.allocUnsafe(Math.min(size, opts.maxBytes) + 1);
    let got = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got === buf.length) break;
    }
    if (got > opts.maxBytes) throw tooLarge(file, got, opts);
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

function checkStat(file: string, st: fs.Stats, opts: ReadOptions): number {
  if (!st.isFile()) {
    throw new PerceptError('ERR_FILE_NOT_REGULAR', `${opts.what} ${file} is ${kindOf(st)}, not a regular file; ${opts.hint}`);
  }
  if (st.size > opts.maxBytes) throw tooLarge(file, st.size, opts);
  return st.size;
}

function tooLarge(file: string, size: number, opts: ReadOptions): PerceptError {
  return new PerceptError('ERR_FILE_TOO_LARGE', `${opts.what} ${file} holds ${size} bytes or more, over the limit of ${opts.maxBytes}; ${opts.hint}`);
}

function openError(file: string, e: unknown, opts: ReadOptions): PerceptError {
  const code = (e as NodeJS.ErrnoException).code ?? 'error';
  // The errno only: a message from the OS may carry the path twice, never the contents.
  return new PerceptError(opts.openCode, `${opts.what} ${file} cannot be read (${code}); ${opts.hint}`, { cause: e });
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'of another kind';
}
