// Where a window or a track event becomes a signed message: results gather in windows; a
// closed window or a track event (each with its source's zone and line counts) is encoded, chained
// and (when a checkpoint is due) signed by the chain writer, committed to the outbox, and the
// sender is poked. telemetry.mode picks windows, events or both. Also the idle-checkpoint
// timer and the publish error log.

import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { InferenceResult } from '../inference/pool.js';
import type { LoadedModel } from '../pipeline/model.js';
import { Windows, type ClosedWindow } from '../telemetry/window.js';
import {
  HUB_MESSAGE_LIMIT,
  PROPERTY_RESERVE,
  encodeEvent,
  encodeWindow,
  type Identity,
  type OutgoingMessage,
  type SourceTallies,
} from '../telemetry/encode.js';
import type { PerceptEvent } from '../events/types.js';
import { ChainWriter } from '../telemetry/chain-writer.js';
import type { Signer } from '../attest/signer.js';
import type { Outbox, OutboxRow } from '../hub/outbox.js';
import type { Sender } from '../hub/sender.js';
import { PerceptError } from '../errors.js';

export interface TelemetryPathOptions {
  outbox: Outbox;
  sender: Sender;
  signer: Signer | null;
  identity: Identity;
  telemetry: Config['telemetry'];
  checkpointMs: number;
  logger: Logger;
  /** A source's zone and line counts at the moment its window closes or its event is sent (none: messages carry none). */
  tallies?: (source: string) => SourceTallies | undefined;
}

/** A full outbox refuses every window: it is said once per this many ms (the counts are in status). */
const FULL_LOG_EVERY_MS = 10_000;

export class TelemetryPath {
  readonly #outbox: Outbox;
  readonly #sender: Sender;
  readonly #identity: Identity;
  readonly #log: Logger;
  readonly #windows: Windows;
  readonly #writer: ChainWriter<OutboxRow>;
  readonly #tallies: (source: string) => SourceTallies | undefined;
  #telemetry: Config['telemetry'];
  #timer: NodeJS.Timeout | null = null;
  #lastFullLogAt = 0;

  constructor(o: TelemetryPathOptions) {
    this.#outbox = o.outbox;
    this.#sender = o.sender;
    this.#identity = o.identity;
    this.#log = o.logger;
    this.#telemetry = o.telemetry;
    this.#tallies = o.tallies ?? (() => undefined);
    this.#writer = new ChainWriter(o.outbox, { signer: o.signer, checkpointMs: o.checkpointMs, identity: o.identity });
    if (o.signer) {
      this.#log.info({ kid: o.signer.kid, attestation: o.signer.attestation }, 'telemetry checkpoints are signed');
      this.#timer = setInterval(() => void this.#checkpoint(false), o.checkpointMs);
      this.#timer.unref();
    }
    this.#windows = new Windows(o.telemetry.intervalMs, (w) => this.#publish(w));
  }

  /** The chain's head: this boot's id, the newest committed sequence number and digest. */
  get head(): ChainWriter<OutboxRow>['head'] {
    return this.#writer.head;
  }

  get settings(): Config['telemetry'] {
    return this.#telemetry;
  }

  /** Window interval, schema and mode apply from the next window (or event) on. */
  configure(t: Config['telemetry']): void {
    if (t.intervalMs !== this.#telemetry.intervalMs) this.#windows.setInterval(t.intervalMs);
    this.#telemetry = t;
  }

  /** A result joins its source's window (not in `events` mode). */
  add(r: InferenceResult, m: LoadedModel, sourceKind: string): void {
    if (this.#telemetry.mode === 'events') return;
    this.#windows.add(
      r.source,
      sourceKind,
      { name: m.manifest.name, version: m.manifest.version, sha256: m.sha256 },
      {
        seq: r.seq,
        capturedAt: r.capturedAt,
        width: r.width,
        height: r.height,
        detections: r.detections,
      },
    );
  }

  /** A track event becomes one message, in the same chain as the windows (not in `windows` mode). */
  addEvent(e: PerceptEvent, sourceKind: string): void {
    if (this.#telemetry.mode === 'windows') return;
    this.#send([encodeEvent(e, sourceKind, this.#identity, this.#tallies(e.source))], e.source);
  }

  #publish(w: ClosedWindow): void {
    this.#send(encodeWindow(w, this.#telemetry.schema, this.#identity, HUB_MESSAGE_LIMIT - PROPERTY_RESERVE, this.#tallies(w.source)), w.source);
  }

  #send(msgs: OutgoingMessage[], source: string): void {
    if (!msgs.length) return;
    this.#writer.publish(msgs).then(
      () => this.#sender.poke(),
      (e: PerceptError) => {
        if (e.code === 'ERR_OUTBOX_FULL') {
          if (Date.now() - this.#lastFullLogAt < FULL_LOG_EVERY_MS) return;
          this.#lastFullLogAt = Date.now();
        }
        this.#log.error({ code: e.code, source, dropped: this.#outbox.stats().dropped }, e.message);
      },
    );
  }

  /** A standalone checkpoint when no telemetry flowed for an interval (`force`: at shutdown). */
  async #checkpoint(force: boolean): Promise<void> {
    try {
      if (await this.#writer.checkpoint(force)) this.#sender.poke();
    } catch (e) {
      this.#log.error({ code: (e as PerceptError).code }, `checkpoint failed: ${(e as Error).message}`);
    }
  }

  /** Shutdown: publishes the open windows and closes the chain with a signature, so its tail is not left unsigned. */
  async close(): Promise<void> {
    this.#writer.closing();
    this.#windows.flush();
    this.#windows.stop();
    if (this.#timer) clearInterval(this.#timer);
    try {
      await this.#writer.close();
      this.#sender.poke();
    } catch (e) {
      this.#log.error({ code: (e as PerceptError).code }, `checkpoint failed: ${(e as Error).message}`);
    }
  }
}
