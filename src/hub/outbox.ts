// The durable outbox: a queue of rows that arrive already chained (telemetry/chain-writer.ts),
// each committed to SQLite (WAL, synchronous=FULL) with the chain head before it counts as
// accepted. Bounded by bytes and age, full disks included; every message given up is counted.

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PerceptError } from '../errors.js';
import { GENESIS } from '../telemetry/chain.js';
import type { ChainedRow, ChainSink } from '../telemetry/chain-writer.js';
import { OutboxStore, isDiskFull, type OutboxRow } from './outbox-store.js';
import { DiskReserve } from './disk-reserve.js';
import type { Logger } from '../log.js';

export type { OutboxRow } from './outbox-store.js';

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

export const DEFAULT_OUTBOX_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_TTL_SECONDS = 7200;
export const DEFAULT_RESERVE_BYTES = 4 * 1024 * 1024;
/** WAL pages before a checkpoint: kept well under the reserve, so a checkpoint always fits in it. */
const WAL_AUTOCHECKPOINT = 256;
/** How often a full disk is probed for returned space. */
const DISK_PROBE_MS = 1000;

export class Outbox implements ChainSink<OutboxRow> {
  readonly #store: OutboxStore;
  readonly #maxBytes: number;
  readonly #ttlMs: number;
  readonly #whenFull: WhenFull;
  #accepted = 0;
  #acknowledged = 0;
  readonly #dropped: Record<DropReason, number> = { outbox_full: 0, disk_full: 0, expired: 0 };
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
  }

  /** The chain writer's start: records the boot id and returns the stored head, the previous boot's last digest. */
  beginBoot(boot: string): string {
    try {
      this.#store.setMeta('boot', boot);
    } catch (e) {
      if (!isDiskFull(e)) throw e;
      // The boot id in meta is informational; a full disk must not stop the agent from starting.
    }
    return this.#store.meta('head_digest') ?? GENESIS;
  }

  /**
   * Admits rows to the next commit, after `pending` bytes admitted before them. Throws
   * ERR_OUTBOX_FULL (counted as outbox_full) when refuse-new is at the bound or the rows alone
   * pass it; drop-oldest admits and makes room at the commit.
   */
  admit(rows: readonly ChainedRow[], pending: number): number {
    this.#assertOpen();
    const size = rows.reduce((n, r) => n + OutboxStore.rowBytes(r), 0);
    if (size > this.#maxBytes || (this.#whenFull === 'refuse-new' && this.#store.bytes + pending + size > this.#maxBytes))
      throw this.#refusal('outbox_full', rows.length);
    return size;
  }

  /**
   * Commits chained rows and the chain head (the last row's digest) in one transaction; returns
   * them with their ids. Throws ERR_OUTBOX_FULL (counted as disk_full) when the disk refuses
   * them all, ERR_HUB on another database error: either way nothing is stored.
   */
  commit(batches: ChainedRow[][]): OutboxRow[][] {
    this.#assertOpen();
    const stored = batches.map((b) => b.map((r): OutboxRow => ({ ...r, id: 0 })));
    const rows = stored.flat();
    if (rows.length === 0) return stored;
    // Over the byte bound (drop-oldest): the oldest rows make room in the same transaction.
    const size = rows.reduce((n, r) => n + OutboxStore.rowBytes(r), 0);
    if (!this.#write(rows, Math.max(0, this.#store.bytes + size - this.#maxBytes))) throw this.#refusal('disk_full', rows.length);
    this.#accepted += rows.length;
    return stored;
  }

  #assertOpen(): void {
    if (!this.#store.open) throw new PerceptError('ERR_HUB', 'the outbox is closed');
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
    if (!this.#diskFull)
      this.#log?.error({ policy: this.#whenFull }, 'the disk under the outbox is full: new messages are refused or replace the oldest, per --when-full');
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

  #refusal(reason: DropReason, n: number): PerceptError {
    this.#dropped[reason] += n;
    const why = reason === 'disk_full' ? 'the disk is full' : `the outbox is at its bound of ${this.#maxBytes} bytes`;
    return new PerceptError(
      'ERR_OUTBOX_FULL',
      `${n} message(s) refused: ${why} (policy ${this.#whenFull}); free space, raise --outbox-max-mb or restore the hub link`,
    );
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

  close(): void {
    this.#store.close();
  }
}
