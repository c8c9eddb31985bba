// The durable outbox: every telemetry message is committed to SQLite (WAL, synchronous=FULL)
// before it counts as accepted, together with the chain head, so a crash can neither lose an
// accepted message nor open an undetected gap in the chain. Rows leave on acknowledgement.

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import { PerceptError } from '../errors.js';
import type { OutgoingMessage } from '../telemetry/encode.js';
import { GENESIS, chainProperties, messageDigest, messageId } from '../telemetry/chain.js';

export interface OutboxRow {
  id: number;
  boot: string;
  seq: number;
  messageId: string;
  prev: string;
  digest: string;
  properties: Record<string, string>;
  body: Buffer;
  contentType: string;
  contentEncoding: string;
  createdAt: number;
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

/** Signs a checkpoint digest; returns the signature properties (percept-sig, -kid, -att). */
export type Checkpointer = (digest: Buffer) => Promise<Record<string, string>>;

export interface OutboxStats {
  depth: number;
  bytes: number;
  oldestAgeMs: number | null;
  accepted: number;
  acknowledged: number;
  deadLettered: number;
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
CREATE TABLE IF NOT EXISTS dead_letter (
  id INTEGER PRIMARY KEY, boot TEXT NOT NULL, seq INTEGER NOT NULL, message_id TEXT NOT NULL,
  digest TEXT NOT NULL, properties TEXT NOT NULL, body BLOB NOT NULL, reason TEXT NOT NULL,
  created_at INTEGER NOT NULL, dead_at INTEGER NOT NULL
);
`;

export class Outbox {
  readonly #db: Database.Database;
  readonly boot: string;
  #seq = 0;
  #head: string;
  #accepted = 0;
  #acknowledged = 0;
  #lastStats: OutboxStats = { depth: 0, bytes: 0, oldestAgeMs: null, accepted: 0, acknowledged: 0, deadLettered: 0 };
  readonly #insert: Database.Statement;
  readonly #setMeta: Database.Statement;
  readonly #insertTx: (rows: OutboxRow[]) => void;
  #tail: Promise<unknown> = Promise.resolve();
  #headSigned = true;

  constructor(file: string) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      this.#db = new Database(file);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#db.exec(SCHEMA);
    } catch (e) {
      throw new PerceptError('ERR_HUB', `cannot open the outbox database ${file}: ${(e as Error).message}; check the path is writable (--outbox)`);
    }
    const get = (k: string) => (this.#db.prepare('SELECT value FROM meta WHERE key = ?').get(k) as { value: string } | undefined)?.value;
    // A new boot: the chain continues from the last message of the previous one.
    this.boot = crypto.randomBytes(8).toString('hex');
    this.#head = get('head_digest') ?? GENESIS;
    this.#insert = this.#db.prepare(
      'INSERT INTO outbox (boot, seq, message_id, prev, digest, properties, body, content_type, content_encoding, created_at, bytes) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
    );
    this.#setMeta = this.#db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.#setMeta.run('boot', this.boot);
    this.#insertTx = this.#db.transaction((rows: OutboxRow[]) => {
      for (const r of rows) {
        const res = this.#insert.run(r.boot, r.seq, r.messageId, r.prev, r.digest, JSON.stringify(r.properties), r.body, r.contentType, r.contentEncoding, r.createdAt, r.body.length);
        r.id = Number(res.lastInsertRowid);
      }
      const last = rows[rows.length - 1];
      // The chain head moves in the same transaction as the rows: a crash cannot open a gap.
      this.#setMeta.run('head_digest', last.digest);
      this.#setMeta.run('head_seq', `${last.boot}:${last.seq}`);
    });
  }

  /**
   * Commits messages durably, in order, extending the chain. When `checkpoint` is given, the
   * last message carries its signature over its digest (which covers the whole chain before
   * it). Calls are serialised: the chain has one writer.
   */
  enqueue(msgs: OutgoingMessage[], checkpoint?: Checkpointer): Promise<OutboxRow[]> {
    const run = this.#tail.then(() => this.#enqueueNow(msgs, checkpoint));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #enqueueNow(msgs: OutgoingMessage[], checkpoint?: Checkpointer): Promise<OutboxRow[]> {
    if (msgs.length === 0) return [];
    const now = Date.now();
    const rows: OutboxRow[] = [];
    let seq = this.#seq;
    let head = this.#head;
    for (const m of msgs) {
      seq++;
      const fields = { boot: this.boot, seq, prev: head };
      const properties = { ...m.properties, ...chainProperties(fields) };
      const digest = messageDigest(fields, m.body, properties);
      rows.push({ id: 0, boot: this.boot, seq, messageId: messageId(fields), prev: head, digest, properties, body: m.body, contentType: m.contentType, contentEncoding: m.contentEncoding, createdAt: now });
      head = digest;
    }
    if (checkpoint) {
      const last = rows[rows.length - 1];
      Object.assign(last.properties, await checkpoint(Buffer.from(last.digest, 'hex')));
    }
    try {
      this.#insertTx(rows);
    } catch (e) {
      throw new PerceptError('ERR_HUB', `outbox write failed: ${(e as Error).message}`);
    }
    this.#seq = seq;
    this.#head = head;
    this.#headSigned = checkpoint !== undefined;
    this.#accepted += rows.length;
    return rows;
  }

  /** True when the newest accepted message carries a signature (or there is none). */
  get headSigned(): boolean {
    return this.#headSigned;
  }

  /** Oldest rows first, after `afterId`. */
  peek(afterId: number, limit: number): OutboxRow[] {
    const raw = this.#db.prepare('SELECT * FROM outbox WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit) as RawRow[];
    return raw.map(fromRaw);
  }

  ack(id: number): void {
    const r = this.#db.prepare('DELETE FROM outbox WHERE id = ?').run(id);
    if (r.changes) this.#acknowledged++;
  }

  deadLetter(row: OutboxRow, reason: string): void {
    this.#db
      .prepare('INSERT OR REPLACE INTO dead_letter (id, boot, seq, message_id, digest, properties, body, reason, created_at, dead_at) VALUES (?,?,?,?,?,?,?,?,?,?)')
      .run(row.id, row.boot, row.seq, row.messageId, row.digest, JSON.stringify(row.properties), row.body, reason, row.createdAt, Date.now());
    this.#db.prepare('DELETE FROM outbox WHERE id = ?').run(row.id);
  }

  stats(): OutboxStats {
    if (!this.#db.open) return { ...this.#lastStats, accepted: this.#accepted, acknowledged: this.#acknowledged };
    const s = this.#db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b, MIN(created_at) AS oldest FROM outbox').get() as { n: number; b: number; oldest: number | null };
    const d = this.#db.prepare('SELECT COUNT(*) AS n FROM dead_letter').get() as { n: number };
    this.#lastStats = { depth: s.n, bytes: s.b, oldestAgeMs: s.oldest === null ? null : Date.now() - s.oldest, accepted: this.#accepted, acknowledged: this.#acknowledged, deadLettered: d.n };
    return this.#lastStats;
  }

  get head(): { boot: string; seq: number; digest: string } {
    return { boot: this.boot, seq: this.#seq, digest: this.#head };
  }

  close(): void {
    if (!this.#db.open) return;
    this.stats();
    this.#db.close();
  }
}

function fromRaw(r: RawRow): OutboxRow {
  return {
    id: r.id,
    boot: r.boot,
    seq: r.seq,
    messageId: r.message_id,
    prev: r.prev,
    digest: r.digest,
    properties: JSON.parse(r.properties) as Record<string, string>,
    body: r.body,
    contentType: r.content_type,
    contentEncoding: r.content_encoding,
    createdAt: r.created_at,
  };
}
