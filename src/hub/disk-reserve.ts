// A reserve file next to the outbox: space held back so that, when the disk fills up, SQLite
// can still checkpoint its WAL and run the deletes that make room (dropping the oldest rows,
// recording acknowledgements). Released on the first SQLITE_FULL, re-created when space returns.

import fs from 'node:fs';

export class DiskReserve {
  readonly file: string;
  readonly bytes: number;

  constructor(file: string, bytes: number) {
    this.file = file;
    this.bytes = bytes;
  }

  /** True when the reserve is in place (or none is configured); creates it when there is room. */
  ensure(): boolean {
    if (this.bytes <= 0) return true;
    try {
      if (fs.statSync(this.file).size >= this.bytes) return true;
    } catch {
      // missing: create it below
    }
    let fd: number | undefined;
    try {
      fd = fs.openSync(this.file, 'w');
      const chunk = Buffer.alloc(Math.min(this.bytes, 256 * 1024));
      for (let off = 0; off < this.bytes; off += chunk.length) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, this.bytes - off), off);
      // Written and synced, so the blocks are really allocated (delayed allocation would lie).
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = undefined;
      return true;
    } catch {
      if (fd !== undefined) fs.closeSync(fd);
      this.release();
      return false;
    }
  }

  /** Frees the space; true when there was a reserve to free. */
  release(): boolean {
    try {
      fs.unlinkSync(this.file);
      return true;
    } catch {
      return false;
    }
  }
}
