// The outbox's SQL: schema, prepared statements and transactions over one better-sqlite3
// connection. Depth and bytes are kept in memory (read once at open) so bounds and status
// cost no table scan. Policy (bounds, what to drop) lives in outbox.ts.

import type Database from 'better-sqlite3';
import { makePrivate } from '../state/modes.js';
import type { ChainedRow } from '../telemetry/chain-writer.js';

/** A chained message as stored, with its row id (the order of delivery). */
export interface OutboxRow extends ChainedRow {
  id: number;
}

interface RawRow {
  id: number;
  boot: string;
  seq: number;
  message_id: string;
  prev: string;
  digest: string;
  properties: string;
  body: Buffer;
  content_type: string;
  content_encoding: string;
  created_at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  boot TEXT NOT NULL, seq INTEGER NOT NULL, message_id TEXT NOT NULL UNIQUE,
  prev TEXT NOT NULL, digest TEXT NOT NULL, properties TEXT NOT NULL,
  body BLOB NOT NULL, content_type TEXT NOT NULL, content_encoding TEXT NOT NULL,
  created_at INTEGER NOT NULL, bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_created ON outbox (created_at);
CREATE TABLE IF NOT EXISTS dead_letter (
  id INTEGER PRIMARY KEY, boot TEXT NOT NULL, seq INTEGER NOT NULL, message_id TEXT NOT NULL,
  digest TEXT NOT NULL, properties TEXT NOT NULL, body BLOB NOT NULL, reason TEXT NOT NULL,
  created_at INTEGER NOT NULL, dead_at INTEGER NOT NULL
);
`;

/** SQLite answered that the database or the disk under it is full (SQLITE_FULL). */
export function isDiskFull(e: unknown): boolean {
  // SQLite maps ENOSPC on the database, WAL and shared-memory files to SQLITE_FULL.
  return (e as { code?: unknown } | null)?.code === 'SQLITE_FULL';
}

export interface InsertResult {
  droppedForBound: number;
  droppedForDisk: number;
  /** Bytes of the rows dropped to make room. */
  freedBytes: number;
}

export class OutboxStore {
  readonly #db: Database.Database;
  #depth: number;
  #bytes: number;
  #deadLettered: number;
  readonly #s: Record<'insert' | 'setMeta' | 'getMeta' | 'peek' | 'del' | 'oldestIds' | 'delUpTo' | 'expire' | 'oldest' | 'dead', Database.Statement>;
  readonly #insertTx: (rows: OutboxRow[], forBound: number, forDisk: number) => InsertResult;
  readonly #deleteTx: (ids: number[]) => { n: number; bytes: number };
  readonly #deadTx: (row: OutboxRow, reason: string) => number;

  constructor(db: Database.Database) {
    this.#db = db;
    // Queued telemetry is the user's data: 0600 whatever the umask. SQLite gives a new -wal
    // and -shm the database file's mode, so after this they stay 0600 too.
    if (!db.memory) makePrivate(db.name, `${db.name}-wal`, `${db.name}-shm`);
    db.exec(SCHEMA);
    const p = (sql: string) => db.prepare(sql);
    this.#s = {
      insert: p(
        'INSERT INTO outbox (boot, seq, message_id, prev, digest, properties, body, content_type, content_encoding, created_at, bytes) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
      ),
      setMeta: p('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      getMeta: p('SELECT value FROM meta WHERE key = ?'),
      peek: p('SELECT * FROM outbox WHERE id > ? ORDER BY id LIMIT ?'),
      del: p('DELETE FROM outbox WHERE id = ? RETURNING bytes'),
      oldestIds: p('SELECT id, bytes FROM outbox ORDER BY id'),
      delUpTo: p('DELETE FROM outbox WHERE id <= ?'),
      expire: p('DELETE FROM outbox WHERE created_at < ? RETURNING bytes'),
      oldest: p('SELECT MIN(created_at) AS t FROM outbox'),
      dead: p(
        'INSERT OR REPLACE INTO dead_letter (id, boot, seq, message_id, digest, properties, body, reason, created_at, dead_at) VALUES (?,?,?,?,?,?,?,?,?,?)',
      ),
    };
    const totals = db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM outbox').get() as { n: number; b: number };
    this.#depth = totals.n;
    this.#bytes = totals.b;
    this.#deadLettered = (db.prepare('SELECT COUNT(*) AS n FROM dead_letter').get() as { n: number }).n;

    this.#insertTx = db.transaction((rows: OutboxRow[], forBound: number, forDisk: number) => {
      const freed = { bound: this.#dropOldest(forBound), disk: this.#dropOldest(forDisk) };
      for (const r of rows) {
        const res = this.#s.insert.run(
          r.boot,
          r.seq,
          r.messageId,
          r.prev,
          r.digest,
          JSON.stringify(r.properties),
          r.body,
          r.contentType,
          r.contentEncoding,
          r.createdAt,
          OutboxStore.rowBytes(r),
        );
        r.id = Number(res.lastInsertRowid);
      }
      const last = rows[rows.length - 1];
      // The chain head moves in the same transaction as the rows: a crash cannot open a gap.
      if (last !== undefined) {
        this.#s.setMeta.run('head_digest', last.digest);
        this.#s.setMeta.run('head_seq', `${last.boot}:${last.seq}`);
      }
      return { droppedForBound: freed.bound.n, droppedForDisk: freed.disk.n, freedBytes: freed.bound.bytes + freed.disk.bytes };
    });
    this.#deleteTx = db.transaction((ids: number[]) => {
      let n = 0;
      let bytes = 0;
      for (const id of ids) {
        const r = this.#s.del.get(id) as { bytes: number } | undefined;
        if (r) {
          n++;
          bytes += r.bytes;
        }
      }
      return { n, bytes };
    });
    this.#deadTx = db.transaction((row: OutboxRow, reason: string) => {
      this.#s.dead.run(row.id, row.boot, row.seq, row.messageId, row.digest, JSON.stringify(row.properties), row.body, reason, row.createdAt, Date.now());
      // -1: the row had already left (acknowledged or dropped while in flight).
      return (this.#s.del.get(row.id) as { bytes: number } | undefined)?.bytes ?? -1;
    });
  }

  /** The bytes a row counts for against the bound: body and properties. */
  static rowBytes(r: Pick<OutboxRow, 'body' | 'properties'>): number {
    let n = r.body.length;
    for (const [k, v] of Object.entries(r.properties)) n += k.length + v.length;
    return n;
  }

  get open(): boolean {
    return this.#db.open;
  }
  get bytes(): number {
    return this.#bytes;
  }

  meta(key: string): string | undefined {
    return (this.#s.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.#s.setMeta.run(key, value);
  }

  /** Deletes the oldest rows until at least `bytes` are freed (inside a transaction). */
  #dropOldest(bytes: number): { n: number; bytes: number } {
    if (bytes <= 0) return { n: 0, bytes: 0 };
    let freed = 0;
    let n = 0;
    let last = -1;
    for (const r of this.#s.oldestIds.iterate() as IterableIterator<{ id: number; bytes: number }>) {
      freed += r.bytes;
      n++;
      last = r.id;
      if (freed >= bytes) break;
    }
    if (last >= 0) this.#s.delUpTo.run(last);
    return { n, bytes: freed };
  }

  insert(rows: OutboxRow[], forBound: number, forDisk: number): InsertResult {
    const r = this.#insertTx(rows, forBound, forDisk);
    this.#depth += rows.length - r.droppedForBound - r.droppedForDisk;
    this.#bytes += rows.reduce((n, x) => n + OutboxStore.rowBytes(x), 0) - r.freedBytes;
    return r;
  }

  peek(afterId: number, limit: number): OutboxRow[] {
    return (this.#s.peek.all(afterId, limit) as RawRow[]).map(fromRaw);
  }

  /** Deletes rows by id in one transaction; returns how many existed. */
  delete(ids: number[]): number {
    if (ids.length === 0) return 0;
    const r = this.#deleteTx(ids);
    this.#depth -= r.n;
    this.#bytes -= r.bytes;
    return r.n;
  }

  expire(before: number): number {
    const rows = this.#s.expire.all(before) as Array<{ bytes: number }>;
    this.#depth -= rows.length;
    for (const r of rows) this.#bytes -= r.bytes;
    return rows.length;
  }

  deadLetter(row: OutboxRow, reason: string): void {
    const bytes = this.#deadTx(row, reason);
    this.#deadLettered++;
    if (bytes >= 0) {
      this.#depth--;
      this.#bytes -= bytes;
    }
  }

  setPageLimit(pages: number): void {
    this.#db.pragma(`max_page_count = ${Math.floor(pages)}`);
  }

  /** Copies the WAL into the database so the next write starts the WAL from its beginning. */
  checkpoint(): void {
    try {
      this.#db.pragma('wal_checkpoint(RESTART)');
    } catch {
      // best effort: a checkpoint that cannot complete leaves the WAL as it was
    }
  }

  stats(): { depth: number; bytes: number; oldestAgeMs: number | null; deadLettered: number } {
    let oldest: number | null = null;
    if (this.#db.open && this.#depth > 0) oldest = (this.#s.oldest.get() as { t: number | null }).t;
    return { depth: this.#depth, bytes: this.#bytes, oldestAgeMs: oldest === null ? null : Math.max(0, Date.now() - oldest), deadLettered: this.#deadLettered };
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

function fromRaw(r: RawRow): OutboxRow {
  // The text columns hold what insert() wrote from typed rows.
  return {
    id: r.id,
    boot: r.boot,
    seq: r.seq,
    messageId: r.message_id,
    prev: r.prev,
    digest: r.digest,
    properties: JSON.parse(r.properties) as Record<string, string>,
    body: r.body,
    contentType: r.content_type as OutboxRow['contentType'],
    contentEncoding: r.content_encoding as OutboxRow['contentEncoding'],
    createdAt: r.created_at,
  };
}
