// The chain's one writer: it gives each message its place in the attestation chain (boot,
// sequence, previous digest), decides which message carries a checkpoint signature, and hands
// the rows, already chained and signed, to the durable queue (the outbox) that commits them.

import crypto from 'node:crypto';
import type { Signer } from '../attest/signer.js';
import { chainProperties, messageDigest, messageId } from './chain.js';
import { checkpointMessage } from './checkpoint.js';
import type { Identity, OutgoingMessage } from './encode.js';

/** A message with its place in the chain, as the durable queue stores it. */
export interface ChainedRow extends OutgoingMessage {
  boot: string;
  seq: number;
  messageId: string;
  prev: string;
  digest: string;
  createdAt: number;
}

/**
 * The durable queue under the writer. It never computes the chain: it admits or refuses rows,
 * and commits them with the chain head (the last row's digest) in one transaction, so a crash
 * between the writer and the commit leaves no gap (the rows were never accepted).
 */
export interface ChainSink<R extends ChainedRow> {
  /** Records a new boot; returns the digest of the newest row ever committed (GENESIS for a new store). */
  beginBoot(boot: string): string;
  /** Admits rows to the next commit after `pending` bytes admitted before them: returns their bytes, or throws the refusal (ERR_OUTBOX_FULL, counted by the sink). */
  admit(rows: readonly ChainedRow[], pending: number): number;
  /** Commits the batches and the chain head in one transaction; throws (nothing stored) when it cannot. */
  commit(batches: ChainedRow[][]): R[][];
}

export interface ChainWriterOptions {
  /** Signs checkpoints; none: the chain is unsigned (`--signer none`). */
  signer?: Signer | null;
  /** While telemetry flows, one signature per interval rides on the message that closes it (default 1000). */
  checkpointMs?: number;
  /** Who the standalone checkpoint message names. */
  identity?: Identity;
}

interface Request<R> {
  msgs: OutgoingMessage[];
  sign: boolean;
  resolve(rows: R[]): void;
  reject(e: Error): void;
}

/** Requests committed in one transaction at most (group commit). */
const MAX_GROUP = 512;

export class ChainWriter<R extends ChainedRow> {
  /** Random per run; the first message of a boot points at the previous boot's last digest. */
  readonly boot = crypto.randomBytes(8).toString('hex');
  readonly #sink: ChainSink<R>;
  readonly #signer: Signer | null;
  readonly #checkpointMs: number;
  readonly #identity: Identity;
  // The committed head: it moves only after the sink committed, so a refusal takes no number.
  #seq = 0;
  #head: string;
  #signed = true;
  #queue: Array<Request<R>> = [];
  #flushing = false;
  #lastSignatureAt = 0;
  #lastPublishAt = 0;
  #closing = false;

  constructor(sink: ChainSink<R>, opts: ChainWriterOptions = {}) {
    this.#sink = sink;
    this.#signer = opts.signer ?? null;
    this.#checkpointMs = opts.checkpointMs ?? 1000;
    this.#identity = opts.identity ?? { deviceId: 'unknown' };
    this.#head = sink.beginBoot(this.boot);
  }

  get signer(): Signer | null {
    return this.#signer;
  }

  /** The newest committed message of this boot (seq 0: none yet) and whether it carries a signature. */
  get head(): { boot: string; seq: number; digest: string; signed: boolean } {
    return { boot: this.boot, seq: this.#seq, digest: this.#head, signed: this.#signed };
  }

  /**
   * Chains and commits messages, in order; resolves with the stored rows once they are on
   * disk. With `sign` (and a signer) the last carries a signature over its digest, which covers
   * the whole chain before it. Concurrent calls share one commit (group commit) and keep their
   * order. Rejects with ERR_OUTBOX_FULL when the queue refuses them: they take no sequence number.
   */
  write(msgs: OutgoingMessage[], opts: { sign?: boolean } = {}): Promise<R[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ msgs, sign: !!opts.sign && this.#signer !== null, resolve, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  /** Telemetry: signed when a checkpoint interval has passed since the last signature, and always while closing. */
  publish(msgs: OutgoingMessage[]): Promise<R[]> {
    const now = Date.now();
    this.#lastPublishAt = now;
    let sign = false;
    if (this.#signer && (this.#closing || now - this.#lastSignatureAt >= this.#checkpointMs)) {
      this.#lastSignatureAt = now;
      sign = true;
    }
    return this.write(msgs, { sign });
  }

  /**
   * With no telemetry for a whole interval and an unsigned tail, a standalone checkpoint
   * message signs it (`force`: whenever the tail is unsigned). Resolves with its row, or null.
   */
  async checkpoint(force = false): Promise<R | null> {
    if (!this.#signer || this.#signed) return null;
    if (!force && Date.now() - this.#lastPublishAt < this.#checkpointMs) return null;
    this.#lastSignatureAt = Date.now();
    const [row] = await this.write([checkpointMessage(this.#identity)], { sign: true });
    return row ?? null;
  }

  /** Shutdown begins: from now on every message published is signed, so the last windows close the chain. */
  closing(): void {
    this.#closing = true;
  }

  /** Shutdown: waits for the writes in flight, then signs the tail if it is still unsigned. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.write([]);
    await this.checkpoint(true);
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length) {
        const group = this.#queue.splice(0, MAX_GROUP);
        // A failure fails this group's callers, never the process.
        await this.#commit(group).catch((e: Error) => group.forEach((r) => r.reject(e)));
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #commit(group: Array<Request<R>>): Promise<void> {
    const now = Date.now();
    let seq = this.#seq;
    let head = this.#head;
    let signed = this.#signed;
    let pending = 0;
    const taken: Array<{ req: Request<R>; rows: ChainedRow[] }> = [];
    for (const req of group) {
      if (req.msgs.length === 0) {
        taken.push({ req, rows: [] });
        continue;
      }
      const rows = this.#chain(req.msgs, seq, head, now);
      const last = rows[rows.length - 1]!;
      let bytes: number;
      try {
        bytes = this.#sink.admit(rows, pending);
        // Signed before the commit, never inside the queue's transaction.
        if (req.sign) Object.assign(last.properties, await this.#signature(last.digest));
      } catch (e) {
        req.reject(e as Error);
        continue;
      }
      seq = last.seq;
      head = last.digest;
      signed = req.sign;
      pending += bytes;
      taken.push({ req, rows });
    }
    const batches = taken.filter((t) => t.rows.length);
    let stored: R[][] = [];
    if (batches.length) {
      try {
        stored = this.#sink.commit(batches.map((t) => t.rows));
      } catch (e) {
        for (const t of taken)
          if (t.rows.length) t.req.reject(e as Error);
          else t.req.resolve([]);
        return;
      }
      this.#seq = seq;
      this.#head = head;
      this.#signed = signed;
    }
    let i = 0;
    for (const t of taken) t.req.resolve(t.rows.length ? stored[i++]! : []);
  }

  #chain(msgs: OutgoingMessage[], seq: number, prev: string, now: number): ChainedRow[] {
    const rows: ChainedRow[] = [];
    for (const m of msgs) {
      const fields = { boot: this.boot, seq: ++seq, prev };
      const properties = { ...m.properties, ...chainProperties(fields) };
      const digest = messageDigest(fields, m.body, properties);
      rows.push({
        boot: this.boot,
        seq: fields.seq,
        messageId: messageId(fields),
        prev,
        digest,
        properties,
        body: m.body,
        contentType: m.contentType,
        contentEncoding: m.contentEncoding,
        createdAt: now,
      });
      prev = digest;
    }
    return rows;
  }

  async #signature(digest: string): Promise<Record<string, string>> {
    const s = this.#signer!;
    const sig = await s.sign(Buffer.from(digest, 'hex'));
    return { 'percept-sig': sig.toString('base64'), 'percept-kid': s.kid, 'percept-att': s.attestation };
  }
}
