// Accounts for delivery: which accepted message ids arrived at the hub, how often, and in what
// order. Accepted ids are known from the chain: each boot numbers its messages 1, 2, 3...,
// so "none lost" means every boot's received sequence covers 1..(its last accepted seq).
import { messageDigest } from '../../src/telemetry/chain.js';
import { must } from './at.js';

export interface Received {
  messageId: string | null;
  properties: Record<string, string>;
  bodyBase64: string;
}

export interface Account {
  accepted: number;
  received: number;
  unique: number;
  duplicated: number;
  lost: number;
  /** First arrivals that came after a later message of the same boot and source. */
  outOfOrder: number;
  /** Links where a message's percept-prev is not its predecessor's digest (within a boot). */
  chainBreaks: number;
  /** A few of the lost ids, for the failure message. */
  missing: string[];
}

/** `accepted`: per boot, the last accepted sequence number (every one below it was accepted too). */
export function account(received: Received[], accepted: Map<string, number>, dropped: Set<string> = new Set()): Account {
  const seen = new Map<string, Received>();
  const lastFirst = new Map<string, number>();
  let outOfOrder = 0;
  for (const m of received) {
    const id = m.messageId ?? '';
    if (seen.has(id)) continue;
    seen.set(id, m);
    const key = `${m.properties['percept-boot']}/${m.properties.source ?? ''}`;
    const seq = Number(m.properties['percept-seq']);
    if (seq <= (lastFirst.get(key) ?? 0)) outOfOrder++;
    lastFirst.set(key, seq);
  }
  let total = 0;
  let lost = 0;
  let chainBreaks = 0;
  const missing: string[] = [];
  for (const [boot, max] of accepted) {
    let prevDigest: string | null = null;
    for (let seq = 1; seq <= max; seq++) {
      const id = `${boot}:${seq}`;
      total++;
      const m = seen.get(id);
      if (!m) {
        prevDigest = null;
        if (dropped.has(id)) continue;
        lost++;
        if (missing.length < 10) missing.push(id);
        continue;
      }
      if (prevDigest !== null && m.properties['percept-prev'] !== prevDigest) chainBreaks++;
      prevDigest = digestOf(m);
    }
  }
  return { accepted: total, received: received.length, unique: seen.size, duplicated: received.length - seen.size, lost, outOfOrder, chainBreaks, missing };
}

export function digestOf(m: Received): string {
  const p = m.properties;
  return messageDigest(
    { boot: must(p['percept-boot'], 'percept-boot'), seq: Number(must(p['percept-seq'], 'percept-seq')), prev: must(p['percept-prev'], 'percept-prev') },
    Buffer.from(m.bodyBase64, 'base64'),
    p,
  );
}

/** One line for t.diagnostic: the counts every delivery test reports. */
export function summary(a: Account, extra: Record<string, unknown> = {}): string {
  const { accepted, received, unique, duplicated, lost, outOfOrder, chainBreaks } = a;
  return JSON.stringify({ accepted, received, unique, duplicated, lost, outOfOrder, chainBreaks, ...extra });
}
