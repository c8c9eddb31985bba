// The durable outbox: each message is committed to SQLite (WAL, synchronous=FULL) with the chain
// head before it counts as accepted, so a crash loses nothing accepted and opens no chain gap.
// Bounded by bytes and age, full disks included; every message given up is counted by reason.

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import { PerceptError } from '../errors.js';
import type { OutgoingMessage } from '../telemetry/encode.js';
import { GENESIS, chainProperties, messageDigest, messageId } from '../telemetry/chain.js';
import { OutboxStore, isDiskFull, type OutboxRow } from './outbox-store.js';
import { DiskReserve } from './disk-reserve.js';
import type { Logger } from '../log.js';

export type { OutboxRow } from './outbox-store.js';

/** Signs a checkpoint digest; returns the signature properties (percept-sig, -kid, -att). */
export type Checkpointer = (digest: Buffer) => Promise<Record<string, string>>;

/** What happens to new messages when the outbox is at its byte bound or the disk is full. */
export type WhenFull = 'drop-oldest' | 'refuse-new';
/** Why a message left the outbox without being delivered (dead letters are counted apart). */
export type DropReason = 'outbox_full' | 'disk_full' | 'expired';

export interface OutboxOptions {
  /** Bound on the queued bytes (bodies and properties); default 256 MiB. */
  maxBytes?: number;
  /** Messages older than this are dropped as `expired` (edgeHub's default: 7200 s). */
  ttlSeconds?: number;
  whenFull?: WhenFull;
  /** SQLite's page limit on the file; tests use it to play a full disk where tmpfs cannot be mounted. */
  maxPageCount?: number;
  /** Space held back next to the database for recovery on a full disk (default 4 MiB; 0: none). */
  reserveBytes?: number;
  logger?: Logger;
}

export interface OutboxStats {
  depth: number;
  bytes: number;
  oldestAgeMs: number | null;
  accepted: number;
  acknowledged: number;
  deadLettered: number;
  dropped: Record<DropReason, number>;
}

interface Request {
  msgs: OutgoingMessage[];
  checkpoint?: Checkpointer;
  resolve(rows: OutboxRow[]): void;
  reject(e: Error): void;
}

export const DEFAULT_OUTBOX_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_TTL_SECONDS = 7200;
export const DEFAULT_RESERVE_BYTES = 4 * 1024 * 1024;
/** WAL pages before a checkpoint: kept well under the reserve, so a checkpoint always fits in it. */
const WAL_AUTOCHECKPOINT = 256;
/** How often a full disk is probed for returned space. */
const DISK_PROBE_MS = 1000;
/** Requests committed in one transaction at most (group commit). */
const MAX_GROUP = 512;

export class Outbox {
  readonly boot: string;
  readonly #store: OutboxStore;
  readonly #maxBytes: number;
  readonly #ttlMs: number;
  readonly #whenFull: WhenFull;
  #seq = 0;
  #head: string;
  #headSigned = true;
  #accepted = 0;
  #acknowledged = 0;
  readonly #dropped: Record<DropReason, number> = { outbox_full: 0, disk_full: 0, expired: 0 };
  #queue: Request[] = [];
  #flushing = false;
  readonly #reserve: DiskReserve;
  readonly #log: Logger | undefined;
  /** Set by SQLITE_FULL, cleared when space returns: new rows then need old ones to make room. */
  #diskFull = false;
  #lastProbe = 0;

  constructor(file: string, opts: OutboxOptions = {}) {
    this.#maxBytes = opts.maxBytes ?? DEFAULT_OUTBOX_MAX_BYTES;
    this.#ttlMs = (opts.ttlSeconds ?? DEFAULT_TTL_SECONDS) * 1000;
    this.#whenFull = opts.whenFull ?? 'drop-oldest';
    let db: Database.Database;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT}`);
      if (opts.maxPageCount) db.pragma(`max_page_count = ${Math.floor(opts.maxPageCount)}`);
    } catch (e) {
      throw new PerceptError('ERR_HUB', `cannot open the outbox database ${file}: ${(e as Error).message}; check the path is writable (--outbox)`);
    }
    this.#store = new OutboxStore(db);
    this.#log = opts.logger;
    this.#reserve = new DiskReserve(`${file}-reserve`, opts.reserveBytes ?? DEFAULT_RESERVE_BYTES);
    if (!this.#reserve.ensure()) this.#enterDiskFull();
    // A new boot: the chain continues from the last message of the previous one.
    this.boot = crypto.randomBytes(8).toString('hex');
    this.#head = this.#store.meta('head_digest') ?? GENESIS;
    try {
      this.#store.setMeta('boot', this.boot);
    } catch (e) {
      if (!isDiskFull(e)) throw e;
      // The boot id in meta is informational; a full disk must not stop the agent from starting.
    }
  }

  /**
   * Commits messages durably, in order, extending the chain; resolves once they are on disk.
   * When `checkpoint` is given, the last message carries its signature over its digest (which
   * covers the whole chain before it). Concurrent calls are committed together (group commit)
   * but keep their order: the chain has one writer. Rejects with ERR_OUTBOX_FULL when the
   * policy refuses the messages (they get no sequence number, so the chain has no gap).
   */
  enqueue(msgs: OutgoingMessage[], checkpoint?: Checkpointer): Promise<OutboxRow[]> {
    return new Promise((resolve, reject) => {
      if (!this.#store.open) return reject(new PerceptError('ERR_HUB', 'the outbox is closed'));
      this.#queue.push({ msgs, checkpoint, resolve, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length) {
        const group = this.#queue.splice(0, MAX_GROUP);
        // A database error (or a close meanwhile) fails this group's callers, never the process.
        await this.#commit(group).catch((e: Error) => group.forEach((r) => r.reject(e)));
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #commit(group: Request[]): Promise<void> {
    const now = Date.now();
    let seq = this.#seq;
    let head = this.#head;
    let signed = this.#headSigned;
    let bytes = this.#store.bytes;
    const taken: Array<{ req: Request; rows: OutboxRow[] }> = [];
    for (const req of group) {
      if (req.msgs.length === 0) {
        taken.push({ req, rows: [] });
        continue;
      }
      const rows: OutboxRow[] = [];
      let s = seq;
      let h = head;
      for (const m of req.msgs) {
        s++;
        const fields = { boot: this.boot, seq: s, prev: h };
        const properties = { ...m.properties, ...chainProperties(fields) };
        const digest = messageDigest(fields, m.body, properties);
        rows.push({ id: 0, boot: this.boot, seq: s, messageId: messageId(fields), prev: h, digest, properties, body: m.body, contentType: m.contentType, contentEncoding: m.contentEncoding, createdAt: now });
        h = digest;
      }
      const size = rows.reduce((n, r) => n + OutboxStore.rowBytes(r), 0);
      if (size > this.#maxBytes || (this.#whenFull === 'refuse-new' && bytes + size > this.#maxBytes)) {
        this.#refuse(req, 'outbox_full', rows.length);
        continue;
      }
      if (req.checkpoint) {
        const last = rows[rows.length - 1];
        try {
          Object.assign(last.properties, await req.checkpoint(Buffer.from(last.digest, 'hex')));
        } catch (e) {
          req.reject(e as Error);
          continue;
        }
      }
      seq = s;
      head = h;
      signed = req.checkpoint !== undefined;
      bytes += size;
      taken.push({ req, rows });
    }
    const rows = taken.flatMap((t) => t.rows);
    if (rows.length === 0) {
      for (const t of taken) t.req.resolve(t.rows);
      return;
    }
    // Over the byte bound (drop-oldest): the oldest rows make room in the same transaction.
    const over = Math.max(0, bytes - this.#maxBytes);
    const ok = this.#write(rows, over);
    if (!ok) {
      for (const t of taken) if (t.rows.length) this.#refuse(t.req, 'disk_full', t.rows.length);
      else t.req.resolve([]);
      return;
    }
    this.#seq = seq;
    this.#head = head;
    this.#headSigned = signed;
    this.#accepted += rows.length;
    for (const t of taken) t.req.resolve(t.rows);
  }

  /**
   * Inserts the rows. On a full disk (SQLITE_FULL) the reserve is released so SQLite can
   * checkpoint and delete, and until space returns refuse-new refuses while drop-oldest drops
   * at least as much as it adds, in the same transaction.
   */
  #write(rows: OutboxRow[], over: number): boolean {
    const batchBytes = rows.reduce((n, r) => n + OutboxStore.rowBytes(r), 0);
    if (!this.#diskFull || this.#probeDisk()) {
      try {
        this.#insert(rows, over, 0);
        if (this.#diskFull) this.#leaveDiskFull();
        return true;
      } catch (e) {
        if (!isDiskFull(e)) throw new PerceptError('ERR_HUB', `outbox write failed: ${(e as Error).message}`, { cause: e });
        this.#enterDiskFull();
      }
    }
    if (this.#whenFull === 'refuse-new') return false;
    // Drop as much as the rows add (their pages are reused), more if pages do not line up.
    for (let i = 0; i < 3; i++) {
      try {
        this.#insert(rows, over, batchBytes * 2 ** i);
        return true;
      } catch (e) {
        if (!isDiskFull(e)) throw new PerceptError('ERR_HUB', `outbox write failed: ${(e as Error).message}`, { cause: e });
        // A WAL that cannot grow is reused from its start once checkpointed.
        this.#store.checkpoint();
      }
    }
    return false;
  }

  #insert(rows: OutboxRow[], over: number, forDisk: number): void {
    const r = this.#store.insert(rows, over, forDisk);
    this.#dropped.outbox_full += r.droppedForBound;
    this.#dropped.disk_full += r.droppedForDisk;
  }

  #enterDiskFull(): void {
    if (!this.#diskFull) this.#log?.error({ policy: this.#whenFull }, 'the disk under the outbox is full: new messages are refused or replace the oldest, per --when-full');
    this.#diskFull = true;
    this.#lastProbe = Date.now();
    this.#reserve.release();
    this.#store.checkpoint();
  }

  #leaveDiskFull(): void {
    this.#diskFull = false;
    this.#log?.info('disk space returned: the outbox accepts messages again');
  }

  /** True (now and then) when it is worth trying a plain insert again: the reserve could be re-created. */
  #probeDisk(): boolean {
    const now = Date.now();
    if (now - this.#lastProbe < DISK_PROBE_MS) return false;
    this.#lastProbe = now;
    return this.#reserve.ensure();
  }

  /** True while the disk is full (since the last SQLITE_FULL, until space returns). */
  get diskFull(): boolean {
    return this.#diskFull;
  }

  /** Changes SQLite's page limit (tests: a disk that fills and frees up where tmpfs is not available). */
  setPageLimit(pages: number): void {
    this.#store.setPageLimit(pages);
  }

  #refuse(req: Request, reason: DropReason, n: number): void {
    this.#dropped[reason] += n;
    const why = reason === 'disk_full' ? 'the disk is full' : `the outbox is at its bound of ${this.#maxBytes} bytes`;
    req.reject(new PerceptError('ERR_OUTBOX_FULL', `${n} message(s) refused: ${why} (policy ${this.#whenFull}); free space, raise --outbox-max-mb or restore the hub link`));
  }

  /** True when the newest accepted message carries a signature (or there is none). */
  get headSigned(): boolean {
    return this.#headSigned;
  }

  /** Oldest rows first, after `afterId`. */
  peek(afterId: number, limit: number): OutboxRow[] {
    return this.#store.peek(afterId, limit);
  }

  /** Deletes acknowledged rows in one transaction; false when the disk refused (try again later). */
  ack(ids: number[]): boolean {
    try {
      this.#acknowledged += this.#store.delete(ids);
      return true;
    } catch (e) {
      if (!isDiskFull(e)) throw e;
      this.#enterDiskFull();
      return false;
    }
  }

  /** Drops rows older than the time-to-live; returns how many. */
  expire(now = Date.now()): number {
    try {
      const n = this.#store.expire(now - this.#ttlMs);
      this.#dropped.expired += n;
      return n;
    } catch (e) {
      if (!isDiskFull(e)) throw e;
      return 0;
    }
  }

  /** Moves a row the hub will never take to the dead-letter table. */
  deadLetter(row: OutboxRow, reason: 'too_large' | 'refused_by_hub'): boolean {
    try {
      this.#store.deadLetter(row, reason);
      return true;
    } catch (e) {
      if (!isDiskFull(e)) throw e;
      return false;
    }
  }

  stats(): OutboxStats {
    const s = this.#store.stats();
    return { ...s, accepted: this.#accepted, acknowledged: this.#acknowledged, dropped: { ...this.#dropped } };
  }

  get head(): { boot: string; seq: number; digest: string } {
    return { boot: this.boot, seq: this.#seq, digest: this.#head };
  }

  close(): void {
    for (const r of this.#queue.splice(0)) r.reject(new PerceptError('ERR_HUB', 'the outbox is closed'));
    this.#store.close();
  }
}
