// Delivers the outbox in order, at least once: a window of messages in flight (QoS 1) that halves
// on slow acknowledgements (throttling), group-deleted acknowledged rows, resends from the oldest
// after a lost connection, and dead letters for what the hub refuses (closes over it alone, thrice).

import type { Logger } from '../log.js';
import type { Outbox, OutboxRow } from './outbox.js';
import type { HubLink } from './link.js';
import { RateMeter } from '../pipeline/stats.js';
import { PerceptError } from '../errors.js';
import { HUB_MESSAGE_LIMIT } from '../telemetry/encode.js';
import { Metrics } from '../metrics.js';
import { hubMetrics, watchOutbox, type HubMetrics } from './metrics.js';

export interface SenderOptions {
  /** Most messages in flight (default 16). */
  window?: number;
  /** Larger rows (body, properties and system properties) are dead-lettered unsent (IoT Hub's 256 KB). */
  maxMessageBytes?: number;
  /** Times the hub may close the connection over one message sent alone before it is dead-lettered. */
  poisonStrikes?: number;
  /** An acknowledgement slower than this reads as throttling: the window halves. */
  slowAckMs?: number;
  /** The agent's metrics registry: the sender counts there, and exports the outbox's figures (default: its own). */
  metrics?: Metrics;
}

export interface SenderStats {
  sent: number;
  acknowledged: number;
  retried: number;
  failed: number;
  /** Sends whose deadline passed: each forced a reconnect (the silent-hang watchdog). */
  timeouts: number;
  /** Acknowledgements slower than slowAckMs (the hub throttling us). */
  throttled: number;
  deadLettered: number;
  /** Messages allowed in flight now. */
  window: number;
  inFlight: number;
  /** Messages acknowledged per second over the last few seconds. */
  sendRate: number;
}

interface Flight {
  row: OutboxRow;
  sentAt: number;
  epoch: number;
  /** Sent alone because the hub dropped the connection while it was the oldest in flight. */
  probe: boolean;
  done: Promise<void>;
}

/** A hub-side close within this long of sending the oldest message in flight counts against it. */
const STRIKE_WINDOW_MS = 5000;
const ACK_GROUP = 64;
const ACK_FLUSH_MS = 20;

/** The size IoT Hub counts for a message: body, application and system properties. */
export function hubBytes(row: OutboxRow): number {
  let n = row.body.length + '$.mid$.ct$.ce'.length + row.messageId.length + row.contentType.length + row.contentEncoding.length;
  for (const [k, v] of Object.entries(row.properties)) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

export class Sender {
  #running = false;
  readonly #inflight = new Map<number, Flight>();
  #lastQueued = 0;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  readonly #sentIds = new Set<number>();
  readonly #strikes = new Map<number, number>();
  /** Acknowledged, not yet deleted (group delete pending or refused by a full disk). */
  readonly #acked = new Set<number>();
  #ackTimer: NodeJS.Timeout | null = null;
  #cwnd: number;
  #lastDecrease = 0;
  #lastExpire = 0;
  readonly #rate = new RateMeter(5000);
  #deadLettered = 0;
  readonly #m: HubMetrics;
  readonly #unwatch: () => void;
  readonly #o: Required<Omit<SenderOptions, 'metrics'>>;

  constructor(
    private readonly outbox: Outbox,
    private readonly link: HubLink,
    private readonly log: Logger,
    opts: SenderOptions = {},
  ) {
    const { metrics = new Metrics(), ...rest } = opts;
    this.#o = { window: 16, maxMessageBytes: HUB_MESSAGE_LIMIT, poisonStrikes: 3, slowAckMs: 1000, ...rest };
    this.#m = hubMetrics(metrics);
    this.#unwatch = watchOutbox(metrics, outbox);
    this.#cwnd = this.#o.window;
    link.on('state', () => this.poke());
  }

  stats(): SenderStats {
    const m = this.#m;
    return {
      sent: m.sent.value(),
      acknowledged: m.acknowledged.value(),
      retried: m.retried.value(),
      failed: m.failed.value(),
      timeouts: m.timeouts.value(),
      throttled: m.throttled.value(),
      deadLettered: this.#deadLettered,
      window: Math.floor(this.#cwnd),
      inFlight: this.#inflight.size,
      sendRate: this.#rate.rate(),
    };
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
      try {
        await this.#step();
      } catch (e) {
        // The sender never dies: a database error now may be gone in a second.
        this.log.error({ code: (e as PerceptError).code, error: (e as Error).message }, 'sender step failed; retrying');
        await this.#sleep(1000);
      }
    }
  }

  async #step(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastExpire >= 1000) {
      this.#lastExpire = now;
      const n = this.outbox.expire(now);
      if (n) this.log.warn({ dropped: n, reason: 'expired' }, 'messages older than the outbox time-to-live were dropped');
    }
    if (!this.link.ready) {
      if (this.#inflight.size) await this.#settle();
      // Resend everything unacknowledged, from the oldest, on the next connection.
      this.#lastQueued = 0;
      await this.#sleep(1000);
      return;
    }
    const probing = [...this.#inflight.values()].some((f) => f.probe);
    const room = Math.floor(this.#cwnd) - this.#inflight.size;
    const rows = room > 0 && !probing ? this.outbox.peek(this.#lastQueued, room + this.#acked.size).filter((r) => !this.#acked.has(r.id)) : [];
    let sent = 0;
    for (const row of rows.slice(0, room)) {
      if (hubBytes(row) > this.#o.maxMessageBytes) {
        this.#lastQueued = row.id;
        this.#dead(row, 'too_large', `${hubBytes(row)} bytes with properties, over the hub's ${this.#o.maxMessageBytes}`);
        continue;
      }
      if (this.#strikes.has(row.id)) {
        // A suspect goes alone, so a second close by the hub can only be about it.
        if (this.#inflight.size === 0) {
          this.#send(row, true);
          sent++;
        }
        break;
      }
      this.#send(row, false);
      sent++;
    }
    if (sent === 0) await this.#sleep(1000);
  }

  /** The connection is gone (or draining): wait for its sends, and strike a message the hub closed it over. */
  async #settle(): Promise<void> {
    const oldest = [...this.#inflight.values()].sort((a, b) => a.row.id - b.row.id)[0];
    await Promise.allSettled([...this.#inflight.values()].map((f) => f.done));
    const loss = this.link.lastLoss;
    if (!oldest || this.#acked.has(oldest.row.id) || !this.#sentIds.has(oldest.row.id)) return;
    if (!loss || loss.epoch !== oldest.epoch || loss.by !== 'hub' || loss.at - oldest.sentAt > STRIKE_WINDOW_MS) return;
    const prior = this.#strikes.get(oldest.row.id) ?? 0;
    // Past the first, only a close while it was alone in flight counts: a broker crash is not its fault.
    if (prior > 0 && !oldest.probe) return;
    const strikes = prior + 1;
    this.#strikes.set(oldest.row.id, strikes);
    if (strikes >= this.#o.poisonStrikes) this.#dead(oldest.row, 'refused_by_hub', `the hub closed the connection over it ${strikes} times`);
  }

  #dead(row: OutboxRow, reason: 'too_large' | 'refused_by_hub', why: string): void {
    if (!this.outbox.deadLetter(row, reason)) return;
    this.#deadLettered++;
    this.#strikes.delete(row.id);
    this.#sentIds.delete(row.id);
    this.log.error({ messageId: row.messageId, reason }, `message moved to the dead-letter table: ${why}`);
  }

  #send(row: OutboxRow, probe: boolean): void {
    this.#lastQueued = row.id;
    if (this.#sentIds.has(row.id)) this.#m.retried.inc();
    this.#sentIds.add(row.id);
    this.#m.sent.inc();
    const flight: Flight = { row, sentAt: Date.now(), epoch: this.link.epoch, probe, done: Promise.resolve() };
    flight.done = this.link
      .send(row)
      .then(
        () => this.#onAck(flight),
        (e: unknown) => this.#onFail(flight, e),
      )
      .finally(() => {
        this.#inflight.delete(row.id);
        this.poke();
      });
    this.#inflight.set(row.id, flight);
  }

  #onAck(f: Flight): void {
    const id = f.row.id;
    this.#m.acknowledged.inc();
    this.#rate.mark();
    this.#sentIds.delete(id);
    this.#strikes.delete(id);
    this.#acked.add(id);
    if (this.#acked.size >= ACK_GROUP) this.#flushAcks();
    else this.#ackTimer ??= setTimeout(() => this.#flushAcks(), ACK_FLUSH_MS);
    // AIMD: halve at most once per round trip when acknowledgements are slow, else grow by one per window.
    const now = Date.now();
    const latency = now - f.sentAt;
    if (latency > this.#o.slowAckMs) {
      this.#m.throttled.inc();
      if (now - this.#lastDecrease > latency) {
        this.#lastDecrease = now;
        this.#cwnd = Math.max(1, this.#cwnd / 2);
        this.log.warn({ ackMs: latency, window: Math.floor(this.#cwnd) }, 'slow acknowledgements (throttling?): fewer messages in flight');
      }
    } else {
      this.#cwnd = Math.min(this.#o.window, this.#cwnd + 1 / this.#cwnd);
    }
  }

  #onFail(f: Flight, e: unknown): void {
    this.#m.failed.inc();
    // A late failure from an older connection must not drop the current one.
    if (f.epoch !== this.link.epoch) return;
    if (PerceptError.is(e, 'ERR_HUB_TIMEOUT')) {
      this.#m.timeouts.inc();
      this.link.reconnect(`watchdog: ${(e as Error).message} for ${f.row.messageId}`);
    } else if (this.link.state === 'connected') {
      this.link.reconnect(`send failed: ${(e as Error).message}`);
    }
  }

  /** Deletes acknowledged rows in one transaction; on a full disk keeps them for later. */
  #flushAcks(): void {
    if (this.#ackTimer) clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
    if (this.#acked.size === 0) return;
    const ids = [...this.#acked];
    if (this.outbox.ack(ids)) {
      for (const id of ids) this.#acked.delete(id);
      this.poke();
    } else {
      this.#ackTimer = setTimeout(() => this.#flushAcks(), 1000);
    }
  }

  /** Waits until the outbox is empty or the deadline passes; true when everything was acknowledged. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.#flushAcks();
      if (this.outbox.stats().depth === 0) return true;
      if (Date.now() >= deadline) return false;
      this.poke();
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops sending; acknowledgements still on their way get a second, the rest stay in the outbox. */
  async stop(): Promise<void> {
    this.#running = false;
    this.poke();
    await this.#loop;
    let timer: NodeJS.Timeout | undefined;
    const second = new Promise((r) => (timer = setTimeout(r, 1000)));
    await Promise.race([Promise.allSettled([...this.#inflight.values()].map((f) => f.done)), second]);
    clearTimeout(timer);
    this.#flushAcks();
    if (this.#ackTimer) clearTimeout(this.#ackTimer);
    // The outbox closes after the sender: its last figures stay in the gauges.
    this.#unwatch();
  }
}
