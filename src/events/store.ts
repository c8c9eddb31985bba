// The event store: recent events in memory (bounded in count and age) and each track's best
// snapshot as a JPEG in <dir> (bounded in bytes and age, oldest removed first), read by the
// direct methods and the preview. It also hands out track ids that stay unique across runs
// with the same folder (the counter is kept in <dir>/next-id).

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { EventReader, PerceptEvent } from './types.js';
import { PerceptError } from '../errors.js';

export interface EventStoreOptions {
  /** Events kept in memory (the newest). */
  maxEvents?: number;
  /** Bound on the snapshot files together. */
  maxBytes?: number;
  /** Events and snapshots older than this are dropped. */
  retentionMs?: number;
  /** The clock retention is judged by (capture times are on it). */
  now?: () => number;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}-[0-9]{1,15}$/;

interface SnapshotFile {
  bytes: number;
  at: number;
}

export class EventStore implements EventReader {
  readonly dir: string;
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #retentionMs: number;
  readonly #now: () => number;
  #events: PerceptEvent[] = [];
  /** By track id, oldest write first (a Map keeps insertion order; a rewrite moves to the end). */
  readonly #files = new Map<string, SnapshotFile>();
  #bytes = 0;
  #next: number;

  private constructor(dir: string, opts: EventStoreOptions, next: number) {
    this.dir = dir;
    this.#maxEvents = opts.maxEvents ?? 1000;
    this.#maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.#retentionMs = opts.retentionMs ?? 24 * 3_600_000;
    this.#now = opts.now ?? Date.now;
    this.#next = next;
  }

  /** Opens (creating, mode 0700) the folder; snapshots already there count toward the bound. */
  static open(dir: string, opts: EventStoreOptions = {}): EventStore {
    try {
      return EventStore.#open(dir, opts);
    } catch (e) {
      throw new PerceptError('ERR_CONFIG', `cannot keep events in ${dir}: ${(e as Error).message}; check that the state folder (--state-dir) is writable`);
    }
  }

  static #open(dir: string, opts: EventStoreOptions): EventStore {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    let next = 1;
    try {
      const n = Number(fs.readFileSync(path.join(dir, 'next-id'), 'utf8').trim());
      if (Number.isSafeInteger(n) && n > 0) next = n;
    } catch {
      // A new folder: ids start at 1.
    }
    const store = new EventStore(dir, opts, next);
    const found: Array<[string, SnapshotFile]> = [];
    for (const name of fs.readdirSync(dir)) {
      if (!name.endsWith('.jpg')) continue;
      const id = name.slice(0, -4);
      if (!ID.test(id)) continue;
      const st = fs.statSync(path.join(dir, name));
      found.push([id, { bytes: st.size, at: st.mtimeMs }]);
    }
    found.sort((a, b) => a[1].at - b[1].at);
    for (const [id, f] of found) {
      store.#files.set(id, f);
      store.#bytes += f.bytes;
    }
    store.#prune();
    return store;
  }

  /** A new track id for `source`: `<source>-<n>`. */
  nextId(source: string): string {
    const n = this.#next++;
    try {
      fs.writeFileSync(path.join(this.dir, 'next-id'), String(this.#next), { mode: 0o600 });
    } catch {
      // A full disk must not stop tracking: ids go on in memory, unique for this run.
    }
    return `${source}-${n}`;
  }

  add(e: PerceptEvent): void {
    this.#events.push(e);
    if (this.#events.length > this.#maxEvents) this.#events.splice(0, this.#events.length - this.#maxEvents);
    this.#prune();
  }

  /** Stores (or replaces) a track's snapshot, then holds the bounds by removing the oldest. */
  async putSnapshot(id: string, jpeg: Buffer, at: number): Promise<void> {
    if (!ID.test(id)) throw new Error(`not a track id: ${id}`);
    const file = path.join(this.dir, `${id}.jpg`);
    const tmp = `${file}.tmp`;
    await fsp.writeFile(tmp, jpeg, { mode: 0o600 });
    await fsp.rename(tmp, file);
    const old = this.#files.get(id);
    if (old) {
      this.#bytes -= old.bytes;
      this.#files.delete(id);
    }
    this.#files.set(id, { bytes: jpeg.length, at });
    this.#bytes += jpeg.length;
    this.#prune();
  }

  list(opts: { since?: number; limit?: number } = {}): PerceptEvent[] {
    this.#prune();
    const since = opts.since ?? 0;
    const out = this.#events.filter((e) => e.at >= since);
    const limit = opts.limit ?? out.length;
    return limit < out.length ? out.slice(out.length - limit) : out;
  }

  async snapshot(id: string): Promise<Buffer | null> {
    this.#prune();
    if (!ID.test(id) || !this.#files.has(id)) return null;
    try {
      return await fsp.readFile(path.join(this.dir, `${id}.jpg`));
    } catch {
      return null;
    }
  }

  /** Bytes of the snapshot files kept now. */
  get bytes(): number {
    return this.#bytes;
  }

  #prune(): void {
    const cutoff = this.#now() - this.#retentionMs;
    let drop = 0;
    while (drop < this.#events.length && (this.#events[drop]?.at ?? 0) < cutoff) drop++;
    if (drop) this.#events.splice(0, drop);
    for (const [id, f] of this.#files) {
      if (f.at >= cutoff && this.#bytes <= this.#maxBytes) break;
      this.#files.delete(id);
      this.#bytes -= f.bytes;
      fs.rm(path.join(this.dir, `${id}.jpg`), { force: true }, () => undefined);
    }
  }

  /** Removes the folder (a store in a temporary folder, at the pipeline's stop). */
  async remove(): Promise<void> {
    await fsp.rm(this.dir, { recursive: true, force: true });
  }
}
