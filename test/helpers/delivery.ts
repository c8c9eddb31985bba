// The telemetry path without a pipeline: a real outbox, hub link and sender in the test
// process against an emulator, and a producer of ~2 KB messages at a steady rate. It keeps
// the accepted sequence numbers per boot, for the ledger. PERCEPT_TEST_LOG=debug shows logs.
import path from 'node:path';
import { Outbox, type OutboxOptions, type OutboxRow } from '../../src/hub/outbox.js';
import { ChainWriter } from '../../src/telemetry/chain-writer.js';
import { HubLink, type LinkOptions } from '../../src/hub/link.js';
import { Sender, type SenderOptions } from '../../src/hub/sender.js';
import { createLogger, silentLogger, type Logger } from '../../src/log.js';
import type { OutgoingMessage } from '../../src/telemetry/encode.js';
import { PerceptError } from '../../src/errors.js';
import type { TestHub } from './emulator.js';
import { tempDir } from './paths.js';

export function testLogger(): Logger {
  const level = process.env.PERCEPT_TEST_LOG;
  return level ? createLogger({ level: level as 'debug', pretty: false }) : silentLogger();
}

/** A telemetry-like message of about `bytes` bytes of JSON body. */
export function message(i: number, bytes = 2048, props: Record<string, string> = {}): OutgoingMessage {
  const head = JSON.stringify({ schema: 'percept.test/1', i, at: Date.now(), pad: '' });
  const body = Buffer.from(head.replace('"pad":""', `"pad":"${'x'.repeat(Math.max(0, bytes - head.length))}"`));
  return {
    body,
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    properties: { schema: 'percept.test/1', eventType: 'test', source: 'test', ...props },
  };
}

export interface Delivery {
  outbox: Outbox;
  /** The chain's writer over the outbox: this boot's id and head. */
  writer: ChainWriter<OutboxRow>;
  link: HubLink;
  sender: Sender;
  file: string;
  /** Per boot, the last accepted sequence number. */
  accepted: Map<string, number>;
  /** Messages the outbox refused (ERR_OUTBOX_FULL). */
  refused: number;
  /** Enqueues one message; false when the outbox refused it. */
  put(m: OutgoingMessage): Promise<boolean>;
  /** `perSecond` messages a second for `ms`, each committed before the next tick's. */
  steady(perSecond: number, ms: number, bytes?: number): Promise<void>;
  /** Stops the sender, closes the link and the outbox (the file stays). */
  close(): Promise<void>;
}

export interface DeliveryOptions {
  file?: string;
  outbox?: OutboxOptions;
  link?: Partial<LinkOptions>;
  sender?: SenderOptions;
  /** Open the link now (default true). */
  connect?: boolean;
}

export function startDelivery(hub: TestHub, o: DeliveryOptions = {}): Delivery {
  const file = o.file ?? path.join(tempDir('percept-outbox-'), 'outbox.db');
  const logger = testLogger();
  const outbox = new Outbox(file, o.outbox);
  const writer = new ChainWriter(outbox);
  const link = new HubLink({
    connectionString: hub.connectionString,
    ca: hub.ca,
    transport: 'mqtt',
    output: 'detections',
    logger,
    backoffMs: [100, 2000],
    ...o.link,
  });
  const sender = new Sender(outbox, link, logger, o.sender);
  sender.start();
  if (o.connect !== false) void link.open();
  let i = 0;
  const d: Delivery = {
    outbox,
    writer,
    link,
    sender,
    file,
    accepted: new Map(),
    refused: 0,
    async put(m) {
      try {
        const rows = await writer.write([m]);
        for (const r of rows) d.accepted.set(r.boot, Math.max(d.accepted.get(r.boot) ?? 0, r.seq));
        sender.poke();
        return true;
      } catch (e) {
        if (!PerceptError.is(e, 'ERR_OUTBOX_FULL')) throw e;
        d.refused++;
        return false;
      }
    },
    async steady(perSecond, ms, bytes = 2048) {
      const t0 = Date.now();
      for (let k = 0; Date.now() - t0 < ms; k++) {
        const due = t0 + (k * 1000) / perSecond;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await d.put(message(i++, bytes));
      }
    },
    async close() {
      await sender.stop();
      await link.close();
      outbox.close();
    },
  };
  return d;
}

/** Polls until `fn` is truthy or `timeoutMs` passes. */
export async function waitFor(what: string, fn: () => unknown, timeoutMs = 20_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
