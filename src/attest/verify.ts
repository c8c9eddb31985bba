// The chain verifier: reads received messages in arrival order, recomputes each message's
// digest once (body bytes hashed as received), checks signatures against the enrolled keys,
// and hands each device's records to verify-chain.ts, which orders and judges them.
import crypto from 'node:crypto';
import { CHAIN_VERSION, SIGNATURE_PROPERTIES, sha256Hex } from '../telemetry/chain.js';
import type { KeyRing, TrustedKey } from './keys.js';
import type { InputProblem, MessageSource, ReceivedMessage } from './messages.js';
import { analyseDevice } from './verify-chain.js';
import { signatureChecker } from './verify-signatures.js';

export interface VerifyOptions {
  /** The input may begin mid-chain: the earliest message of a device's first boot anchors it. */
  partial?: boolean;
  /** Arrival order means nothing on this path (storage routing, several readers): a
   * reordering is listed but is not a finding. */
  allowReorder?: boolean;
  /** Verify only these streams: a device id takes the device and its modules, `device/module`
   * one module. Other messages are passed over uncounted. */
  devices?: string[];
}

/** A signature's state: none, valid, or the reason it does not count. */
export type SigState = 'none' | 'valid' | 'bad-signature' | 'unknown-key' | 'attestation-mismatch';

/** What the verifier keeps of one received message: no body, no properties. */
export interface Rec {
  /** Position in the input (the line for JSONL). */
  position: number;
  /** Arrival index within the device's stream. */
  arrival: number;
  boot: string;
  seq: number;
  prev: string;
  digest: string;
  id: string | null;
  sig: SigState;
  kid: string | undefined;
}

export interface Range {
  boot: string;
  from: number;
  /** null: up to an unknown end (a boot whose tail never arrived). */
  to: number | null;
}

export type ForgeryReason =
  | 'digest-mismatch'
  | 'broken-link'
  | 'bad-signature'
  | 'unknown-key'
  | 'attestation-mismatch'
  | 'conflict'
  | 'replay'
  | 'id-mismatch'
  | 'malformed'
  | 'body-mismatch'
  | 'fork';

export interface Forgery {
  reason: ForgeryReason;
  id: string | null;
  position: number;
  detail: string;
}

export interface Gap extends Range {
  detail: string;
}

export interface BootSummary {
  boot: string;
  from: number;
  to: number;
  messages: number;
  /** How the boot's first message links: the device's first ever (`genesis`), to the boot
   * before it (`linked`), to a chain outside the input (`earlier`), reset to genesis later in
   * the input (`restart`), or not at all (`unlinked`: its start is missing or broken). */
  start: 'genesis' | 'linked' | 'earlier' | 'restart' | 'unlinked';
}

export interface DeviceReport {
  device: string;
  /** Messages received, copies included. */
  messages: number;
  /** Distinct chain positions (boot, seq). */
  unique: number;
  keys: { kid: string; attestation: string; certified: boolean; signatures: number }[];
  /** No keys for this device in the keys file: no signature can verify. */
  unknownDevice: boolean;
  boots: BootSummary[];
  verified: Range[];
  gaps: Gap[];
  forgeries: Forgery[];
  reorderings: { id: string; position: number; after: string }[];
  replays: { id: string; position: number; laterBoot: string; sameDigest: boolean }[];
  duplicates: { count: number; items: { id: string; position: number }[] };
  unverified: Range[];
  unsignedTail: Range[];
  unchained: { count: number; positions: number[] };
  findings: number;
  ok: boolean;
}

export interface Report {
  source: string;
  options: VerifyOptions;
  messages: number;
  /** Findings about the input itself: nothing to verify, lines skipped unread. */
  input: InputProblem[];
  devices: DeviceReport[];
  findings: number;
  ok: boolean;
  seconds: number;
  messagesPerSecond: number;
}

const HEX64 = /^[0-9a-f]{64}$/;
const SEQ = /^[1-9][0-9]{0,15}$/;

/** SHA-256 in hex. crypto.hash (Node 20.12+) hashes in one call, several times faster than
 * createHash for these short inputs: the two hashes per message were a fifth of the time. */
export const hashHex: (data: Buffer | string) => string = typeof crypto.hash === 'function' ? (data) => crypto.hash('sha256', data, 'hex') : sha256Hex;

const UNHASHED: readonly string[] = SIGNATURE_PROPERTIES;

/**
 * telemetry/chain.ts's messageDigest, byte for byte (verify-digest.test.ts holds them equal),
 * without its per-message arrays and hash objects: the verifier takes one per message.
 * `prevIsHex`: the caller has checked that prev is 64 hex digits, whose JSON is itself quoted.
 */
export function chainDigest(boot: string, seq: number, prev: string, body: Buffer, p: Record<string, string>, prevIsHex = false): string {
  const set = hashedKeys(Object.keys(p));
  const { keys, json } = set;
  // JSON.stringify of a short string costs more than the SHA-256 of the whole text: a value
  // that repeats from the last message reuses its JSON, and prev (new each time) is quoted.
  const prevJson = prevIsHex ? `"${prev}"` : JSON.stringify(prev);
  // JSON.stringify of [CHAIN_VERSION, boot, seq, prev, sha256(body), [[key, value], ...]],
  // written out piece by piece: the names' JSON is kept with them, and no arrays are built.
  let text = `${VERSION_JSON},${remembered(set, -1, boot)},${seq},${prevJson},"${hashHex(body)}",[`;
  for (let i = 0; i < keys.length; i++) {
    const value = p[keys[i]!]!;
    text += json[i]! + (value === prev ? prevJson : remembered(set, i, value)) + ']';
  }
  return hashHex(`${text}]]`);
}

const VERSION_JSON = `[${JSON.stringify(CHAIN_VERSION)}`;

/** The hashed names of one property set, and the last value seen under each with its JSON. */
interface HashedKeys {
  keys: string[];
  /** What comes before each name's value: `[` and the name's JSON, a comma between pairs. */
  json: string[];
  /** Index i for the name keys[i]; the boot at the end. */
  values: (string | undefined)[];
  valuesJson: string[];
}

// A stream's messages carry the same property names in the same order, message after
// message: the sorted, filtered names of the last set are kept and reused while it repeats.
// Most values repeat too (schema, source, boot), and their JSON is kept with them.
let lastKeys: string[] = [];
let lastHashed: HashedKeys = { keys: [], json: [], values: [], valuesJson: [] };

function hashedKeys(keys: string[]): HashedKeys {
  if (sameNames(keys, lastKeys)) return lastHashed;
  const hashed = keys.filter((k) => !UNHASHED.includes(k)).sort();
  lastKeys = keys;
  lastHashed = { keys: hashed, json: hashed.map((k, i) => `${i ? ',' : ''}[${JSON.stringify(k)},`), values: [], valuesJson: [] };
  return lastHashed;
}

function sameNames(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** JSON.stringify(value), from the set's memory when slot `i` (-1: the boot) last held it. */
function remembered(set: HashedKeys, i: number, value: string): string {
  const slot = i < 0 ? set.keys.length : i;
  if (set.values[slot] === value) return set.valuesJson[slot]!;
  const json = JSON.stringify(value);
  set.values[slot] = value;
  set.valuesJson[slot] = json;
  return json;
}

/** One device's (or module's) stream as read so far. */
export class DeviceStream {
  readonly device: string;
  readonly keys: Map<string, TrustedKey> | undefined;
  readonly recs: Rec[] = [];
  readonly early: Forgery[] = [];
  readonly unchained: number[] = [];
  readonly signatures = new Map<string, number>();
  messages = 0;

  constructor(device: string, keys: Map<string, TrustedKey> | undefined) {
    this.device = device;
    this.keys = keys;
  }

  add(m: ReceivedMessage): void {
    this.messages++;
    if (m.bodyMismatch) this.early.push({ reason: 'body-mismatch', id: m.messageId, position: m.position, detail: m.bodyMismatch });
    const p = m.properties;
    const boot = p['percept-boot'];
    const seqText = p['percept-seq'];
    const prev = p['percept-prev'];
    if (boot === undefined && seqText === undefined && prev === undefined) {
      this.unchained.push(m.position);
      return;
    }
    if (!boot || seqText === undefined || !SEQ.test(seqText) || prev === undefined || !HEX64.test(prev)) {
      this.early.push({
        reason: 'malformed',
        id: m.messageId,
        position: m.position,
        detail: 'percept-boot, percept-seq (an integer from 1) or percept-prev (64 hex digits) is missing or malformed',
      });
      return;
    }
    const seq = Number(seqText);
    const digest = chainDigest(boot, seq, prev, m.body, p, true);
    const rec: Rec = { position: m.position, arrival: this.recs.length, boot, seq, prev, digest, id: m.messageId, sig: 'none', kid: p['percept-kid'] };
    if (m.messageId !== `${boot}:${seq}`) {
      this.early.push({
        reason: 'id-mismatch',
        id: m.messageId,
        position: m.position,
        detail: `the message id is not ${boot}:${seq}, so de-duplication by id would drop or keep the wrong message`,
      });
    }
    const sig = p['percept-sig'];
    if (sig !== undefined) this.#checkSignature(rec, sig, p['percept-att']);
    this.recs.push(rec);
  }

  /** Waits for the signature checks still running. */
  async settle(): Promise<void> {
    signatureChecker().flush();
    while (this.#checks.length) await Promise.all(this.#checks.splice(0));
  }

  get checking(): number {
    return this.#checks.length;
  }

  readonly #checks: Promise<void>[] = [];

  // ECDSA verification runs in a worker thread, so it overlaps with parsing and hashing.
  #checkSignature(rec: Rec, sig: string, att: string | undefined): void {
    const key = rec.kid === undefined ? undefined : this.keys?.get(rec.kid);
    const at = `${rec.boot}:${rec.seq}`;
    if (!key) {
      this.early.push({
        reason: 'unknown-key',
        id: rec.id,
        position: rec.position,
        detail: `signed by kid ${rec.kid ?? '(none)'}, which is not enrolled for ${this.device}`,
      });
      rec.sig = 'unknown-key';
      return;
    }
    this.signatures.set(key.kid, (this.signatures.get(key.kid) ?? 0) + 1);
    const judge = (good: boolean): void => {
      if (!good) {
        this.early.push({
          reason: 'bad-signature',
          id: rec.id,
          position: rec.position,
          detail: `the signature on ${at} does not verify with key ${key.kid}: the chain before it or the signature was altered, or another key signed it`,
        });
        rec.sig = 'bad-signature';
      } else if (att !== key.attestation) {
        this.early.push({
          reason: 'attestation-mismatch',
          id: rec.id,
          position: rec.position,
          detail: `${at} claims percept-att ${att ?? '(none)'} but key ${key.kid} is enrolled as ${key.attestation}`,
        });
        rec.sig = 'attestation-mismatch';
      } else rec.sig = 'valid';
    };
    this.#checks.push(
      new Promise<void>((resolve) => {
        signatureChecker().check(key.key, rec.digest, sig, (good) => {
          judge(good);
          resolve();
        });
      }),
    );
  }
}

/** Incremental verifier: add() messages as they arrive, then report(). */
export class ChainVerifier {
  readonly #keys: KeyRing;
  readonly #opts: VerifyOptions;
  readonly #devices = new Map<string, DeviceStream>();
  #messages = 0;

  constructor(keys: KeyRing, opts: VerifyOptions = {}) {
    this.#keys = keys;
    this.#opts = opts;
  }

  /** Signature checks in flight; a reader should settle() when this grows. */
  get checking(): number {
    let n = 0;
    for (const d of this.#devices.values()) n += d.checking;
    return n;
  }

  async settle(): Promise<void> {
    for (const d of this.#devices.values()) await d.settle();
  }

  add(m: ReceivedMessage): void {
    const name = m.moduleId ? `${m.deviceId}/${m.moduleId}` : m.deviceId;
    const only = this.#opts.devices;
    if (only?.length && !only.includes(name) && !only.includes(m.deviceId)) return;
    this.#messages++;
    let d = this.#devices.get(name);
    if (!d) {
      d = new DeviceStream(name, this.#keys.keysFor(m.deviceId, m.moduleId));
      this.#devices.set(name, d);
    }
    d.add(m);
  }

  /** The report; settle() first, or signatures still being checked count as unsigned. */
  report(source: string, seconds = 0, problems: readonly InputProblem[] = []): Report {
    const devices = [...this.#devices.values()].sort((a, b) => (a.device < b.device ? -1 : 1)).map((d) => analyseDevice(d, this.#opts));
    const input = [...problems];
    if (this.#messages === 0) {
      const which = this.#opts.devices?.length ? ` from ${this.#opts.devices.join(', ')}` : '';
      input.push({
        reason: 'empty',
        position: 0,
        detail: `nothing to verify: no messages${which} in the input; check the file (the emulator's <state>/messages.jsonl) and the device id`,
      });
    }
    const findings = devices.reduce((n, d) => n + d.findings, 0) + input.length;
    return {
      source,
      options: {
        partial: this.#opts.partial ?? false,
        allowReorder: this.#opts.allowReorder ?? false,
        ...(this.#opts.devices?.length ? { devices: this.#opts.devices } : {}),
      },
      messages: this.#messages,
      input,
      devices,
      findings,
      ok: findings === 0,
      seconds,
      messagesPerSecond: seconds > 0 ? Math.round(this.#messages / seconds) : 0,
    };
  }
}

/** Reads a whole source and verifies it. */
export async function verifyMessages(source: MessageSource, keys: KeyRing, opts: VerifyOptions = {}): Promise<Report> {
  const t0 = process.hrtime.bigint();
  const v = new ChainVerifier(keys, opts);
  let n = 0;
  // Bound the signature checks in flight (and their memory) without a check per message.
  const full = (): boolean => ++n % 1024 === 0 && v.checking > 256;
  if (source.batches) {
    for await (const batch of source.batches()) {
      for (const m of batch) {
        v.add(m);
        if (full()) await v.settle();
      }
    }
  } else {
    for await (const m of source.messages()) {
      v.add(m);
      if (full()) await v.settle();
    }
  }
  await v.settle();
  return v.report(source.description, Number(process.hrtime.bigint() - t0) / 1e9, source.problems);
}
