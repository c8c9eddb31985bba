// Delivers the outbox to the hub in order, with a bounded window of messages in flight
// (QoS 1), deleting each row on its acknowledgement. After a lost connection it resends
// from the oldest unacknowledged row: at least once, never out of order.

import type { Logger } from '../log.js';
import type { Outbox, OutboxRow } from './outbox.js';
import type { HubLink } from './link.js';
import { RateMeter } from '../pipeline/stats.js';

export interface SenderStats {
  sent: number;
  acknowledged: number;
  retried: number;
  failed: number;
  sendRate: number;
}

/** Errors after which resending cannot help: the message goes to the dead-letter table. */
const POISON = /message too large|payload too large|413|malformed|invalid message/i;

export class Sender {
  #running = false;
  #inflight = new Map<number, Promise<void>>();
  #lastQueued = 0;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  #sentIds = new Set<number>();
  readonly #rate = new RateMeter(5000);
  readonly #stats = { sent: 0, acknowledged: 0, retried: 0, failed: 0 };

  constructor(
    private readonly outbox: Outbox,
    private readonly link: HubLink,
    private readonly log: Logger,
    private readonly window = 16,
  ) {
    link.on('state', () => this.poke());
  }

  stats(): SenderStats {
    return { ...this.#stats, sendRate: this.#rate.rate() };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** New rows, a freed slot or a state change: look again. */
  poke(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  async #run(): Promise<void> {
    while (this.#running) {
      if (this.link.state !== 'connected') {
        // Let the old connection's sends settle, then resend everything unacknowledged.
        await Promise.allSettled(this.#inflight.values());
        this.#lastQueued = 0;
        await this.#sleep(1000);
        continue;
      }
      const room = this.window - this.#inflight.size;
      const rows = room > 0 ? this.outbox.peek(this.#lastQueued, room) : [];
      if (rows.length === 0) {
        await this.#sleep(1000);
        continue;
      }
      for (const row of rows) this.#send(row);
    }
  }

  #send(row: OutboxRow): void {
    this.#lastQueued = row.id;
    if (this.#sentIds.has(row.id)) this.#stats.retried++;
    this.#sentIds.add(row.id);
    this.#stats.sent++;
    const p = this.link
      .send(row)
      .then(
        () => {
          this.outbox.ack(row.id);
          this.#sentIds.delete(row.id);
          this.#stats.acknowledged++;
          this.#rate.mark();
        },
        (e: Error) => {
          this.#stats.failed++;
          if (POISON.test(e.message)) {
            this.log.error({ messageId: row.messageId, error: e.message }, 'the hub refused a message; moved to the dead-letter table');
            this.outbox.deadLetter(row, e.message);
            this.#sentIds.delete(row.id);
            return;
          }
          if (this.link.state === 'connected') this.link.reconnect(`send failed: ${e.message}`);
        },
      )
      .finally(() => {
        this.#inflight.delete(row.id);
        this.poke();
      });
    this.#inflight.set(row.id, p);
  }

  /** Waits until the outbox is empty or the deadline passes; true when everything was acknowledged. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.outbox.stats().depth === 0) return true;
      this.poke();
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.outbox.stats().depth === 0;
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.poke();
    await this.#loop;
    await Promise.allSettled(this.#inflight.values());
  }
}
