// Where the verifier reads received messages from: one small interface, so an Event Hubs
// (or storage) reader can stand next to the emulator's messages.jsonl reader. The digest is
// taken over the body bytes as received, so a source must hand over bytes, never re-encode.
import { isAscii } from 'node:buffer';
import fs from 'node:fs';
import { PerceptError } from '../errors.js';
import { isCompactJson } from './compact-json.js';

export interface ReceivedMessage {
  deviceId: string;
  moduleId: string | null;
  /** The hub's message id (`$.mid`), null when the sender set none. */
  messageId: string | null;
  /** Application properties as received. */
  properties: Record<string, string>;
  /** The body bytes exactly as the hub received them. */
  body: Buffer;
  /** Position in the source, from 1 (the line number for JSONL), for reports. */
  position: number;
  /** Set when the record's readable copy of the body (`body`) is not the body bytes: a reader
   * of that copy would see another message than the one the chain covers. */
  bodyMismatch?: string;
}

/** Input that is no message at all: a finding about the source, not about a device. */
export interface InputProblem {
  reason: 'line-too-long' | 'empty';
  position: number;
  detail: string;
}

export interface MessageSource {
  /** Names the input in reports and errors (a path, a hub and consumer group, ...). */
  readonly description: string;
  /** The messages in arrival order; rejects with ERR_INPUT on input it cannot read. */
  messages(): AsyncIterable<ReceivedMessage>;
  /** The same messages in arrays, for a reader that takes many at a time (the verifier): one
   * wait per array instead of one per message. Optional; messages() stands in for it. */
  batches?(): AsyncIterable<readonly ReceivedMessage[]>;
  /** What was skipped while reading, complete once messages() has ended. */
  readonly problems?: readonly InputProblem[];
}

/** The longest JSONL line read: an IoT Hub message is at most 256 KB, and its record holds
 * it twice (bytes in base64 and the parsed copy) with its properties. */
export const MAX_LINE_CHARS = 4 * 1024 * 1024;

/** Whether `parsed` is what the emulator stores as `body` for these bytes. Compared as JSON
 * text: both sides went through JSON.parse, so equal values print alike. */
function sameBody(parsed: unknown, bytes: Buffer): boolean {
  const printed = JSON.stringify(parsed);
  // Fast path: compact JSON (what devices send) prints back as its own bytes.
  if (printed === bytes.toString('utf8')) return true;
  return printed === JSON.stringify(readableBody(bytes));
}

/** What the emulator stores as `body`: the parsed JSON of the bytes, else their text. */
function readableBody(bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  if (text.trim() === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Bytes read at a time. */
const CHUNK = 1 << 20;
/** Messages handed over at a time: few enough that a batch is short-lived garbage, not a
 * megabyte's worth (some 500 messages) that every young-generation GC would copy. */
const BATCH = 64;

function inputError(where: string, why: string): PerceptError {
  return new PerceptError('ERR_INPUT', `${where}: ${why}`);
}

/**
 * One object per line as the emulator writes `<state>/messages.jsonl` (and serves
 * `/devices/{id}/messages?format=ndjson`): `{deviceId, moduleId, messageId, properties,
 * bodyBase64, body?, ...}`. The chain covers `bodyBase64`; `body`, the copy readers see, must
 * be its parse. Lines are streamed, and one longer than the cap is skipped unbuffered.
 */
export class JsonlMessageSource implements MessageSource {
  readonly description: string;
  readonly problems: InputProblem[] = [];
  readonly #file: string;
  readonly #maxLine: number;

  constructor(file: string, opts: { maxLineChars?: number } = {}) {
    this.#file = file;
    this.description = file;
    this.#maxLine = opts.maxLineChars ?? MAX_LINE_CHARS;
  }

  #tooLong(line: number): void {
    this.problems.push({
      reason: 'line-too-long',
      position: line,
      detail: `line ${line} is longer than ${this.#maxLine} characters, more than any IoT Hub message takes: skipped unread`,
    });
  }

  async *messages(): AsyncIterable<ReceivedMessage> {
    for await (const batch of this.batches()) yield* batch;
  }

  /** Up to BATCH messages at a time. */
  async *batches(): AsyncIterable<ReceivedMessage[]> {
    let fd: number;
    try {
      await fs.promises.access(this.#file, fs.constants.R_OK);
      fd = fs.openSync(this.#file, 'r');
    } catch (e) {
      throw this.#unreadable(e);
    }
    try {
      yield* this.#lines(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  #unreadable(e: unknown): PerceptError {
    return inputError(this.#file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); pass the emulator's <state>/messages.jsonl`);
  }

  // Read synchronously, a megabyte at a time: from the page cache that is a fraction of a
  // millisecond, where each asynchronous read waited on a pool thread and the event loop, a
  // wait that grows with every other process on a busy machine.
  #chunks(fd: number): Iterable<Buffer> {
    const read = (): Buffer | null => {
      const chunk = Buffer.allocUnsafe(CHUNK);
      let n: number;
      try {
        n = fs.readSync(fd, chunk, 0, CHUNK, null);
      } catch (e) {
        throw this.#unreadable(e);
      }
      return n === 0 ? null : chunk.subarray(0, n);
    };
    return {
      [Symbol.iterator]: () => ({
        next: (): IteratorResult<Buffer> => {
          const chunk = read();
          return chunk ? { value: chunk, done: false } : { value: undefined, done: true };
        },
      }),
    };
  }

  // Synchronous, as the reads are: the messages come out BATCH at a time.
  *#lines(fd: number): Generator<ReceivedMessage[]> {
    this.problems.length = 0;
    // Lines are split on the newline byte (never part of a multi-byte UTF-8 sequence) and the
    // complete lines of a chunk decoded at once: as latin1 when they are all ASCII (a plain
    // copy), else as UTF-8. The bytes of an unfinished line wait in `carry`.
    let carry: Buffer[] = [];
    let carried = 0;
    let line = 0;
    // Past the cap the rest of the line is dropped as it arrives, so memory stays bounded. A
    // UTF-8 byte decodes to at least a third of a character, hence the byte bound.
    let skipping = false;
    const byteCap = 3 * this.#maxLine;
    for (const chunk of this.#chunks(fd)) {
      let out: ReceivedMessage[] = [];
      const first = chunk.indexOf(10);
      if (first === -1) {
        if (!skipping) {
          carry.push(chunk);
          carried += chunk.length;
          if (carried > byteCap) {
            this.#tooLong(line + 1);
            skipping = true;
            carry = [];
            carried = 0;
          }
        }
        continue;
      }
      line++;
      if (skipping) skipping = false;
      else {
        const head = chunk.subarray(0, first);
        const m = this.#line(carried ? Buffer.concat([...carry, head]) : head, line);
        if (m) out.push(m);
      }
      carry = [];
      carried = 0;
      const last = chunk.lastIndexOf(10);
      if (last > first) {
        const region = chunk.subarray(first + 1, last);
        const text = region.toString(isAscii(region) ? 'latin1' : 'utf8');
        let start = 0;
        for (;;) {
          const nl = text.indexOf('\n', start);
          line++;
          const raw = nl === -1 ? text.slice(start) : text.slice(start, nl);
          if (raw.length > this.#maxLine) this.#tooLong(line);
          else {
            const m = this.#parse(raw, line);
            if (m && out.push(m) === BATCH) {
              yield out;
              out = [];
            }
          }
          if (nl === -1) break;
          start = nl + 1;
        }
      }
      if (last + 1 < chunk.length) {
        carry.push(chunk.subarray(last + 1));
        carried = chunk.length - last - 1;
      }
      if (out.length) yield out;
    }
    if (!skipping && carried) {
      const m = this.#line(Buffer.concat(carry), ++line);
      if (m) yield [m];
    }
  }

  #line(bytes: Buffer, line: number): ReceivedMessage | null {
    const raw = bytes.toString('utf8');
    if (raw.length > this.#maxLine) {
      this.#tooLong(line);
      return null;
    }
    return this.#parse(raw, line);
  }

  // Checked by hand rather than with a schema: this runs for every message, and the verifier
  // must keep up with tens of thousands a second.
  #parse(raw: string, line: number): ReceivedMessage | null {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return null;
    const at = (): string => `${this.#file}:${line}`;
    const split = splitBody(text);
    let o: Record<string, unknown>;
    if (split) o = split.record;
    else {
      try {
        o = JSON.parse(text) as Record<string, unknown>;
      } catch (e) {
        throw inputError(at(), `not a JSON object (${(e as Error).message})`);
      }
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw inputError(at(), 'not a JSON object');
    if (typeof o.deviceId !== 'string' || o.deviceId === '') throw inputError(at(), 'expected a string deviceId');
    if (o.moduleId !== undefined && o.moduleId !== null && typeof o.moduleId !== 'string') throw inputError(at(), 'expected moduleId to be a string or null');
    if (o.messageId !== undefined && o.messageId !== null && typeof o.messageId !== 'string')
      throw inputError(at(), 'expected messageId to be a string or null');
    if (typeof o.bodyBase64 !== 'string') throw inputError(at(), 'expected bodyBase64 (the body bytes as received); the parsed body alone cannot be hashed');
    const props = o.properties ?? {};
    if (typeof props !== 'object' || props === null || Array.isArray(props)) throw inputError(at(), 'expected properties to be an object');
    for (const k in props)
      if (typeof (props as Record<string, unknown>)[k] !== 'string') throw inputError(at(), 'expected every application property to be a string');
    const body = split ? split.bytes : Buffer.from(o.bodyBase64, 'base64');
    const m: ReceivedMessage = {
      deviceId: o.deviceId,
      moduleId: o.moduleId ?? null,
      messageId: o.messageId ?? null,
      properties: props as Record<string, string>,
      body,
      position: line,
    };
    // splitBody proved the record's body is the parse of its bytes; otherwise compare.
    if (!split && o.body !== undefined && !sameBody(o.body, body)) {
      m.bodyMismatch = 'its body is not the parse of its bodyBase64: the copy readers see was altered after the hub received the message';
    }
    return m;
  }
}

const BODY_KEY = '"body":';
const BASE64_KEY = ',"bodyBase64":"';

/**
 * The fast path for a record as the emulator writes it, ending `"body":X,"bodyBase64":"B"}`
 * with X the body bytes' own text: the record is parsed without X, and X on its own. If the
 * record without X is a JSON object and X is one JSON value, then the whole line is that
 * object with `body` = the parse of X, which is what the bytes must read as: `"bodyBase64"`
 * followed by `:` can only be a key of the object the final `}` closes, so what precedes it
 * ends where a top-level key may start, and there the line holds the key `body`, the value
 * X, and nothing after but bodyBase64. This skips JSON.stringify of every body, the
 * costliest check there was. Anything else (another layout, a body that is not compact
 * JSON, escapes in B) returns null and takes the general path, which compares.
 */
function splitBody(text: string): { record: Record<string, unknown>; bytes: Buffer } | null {
  if (!text.endsWith('"}')) return null;
  // bodyBase64's value is what follows the last quote before the end: no quote inside.
  const q = text.lastIndexOf('"', text.length - 3);
  const j = q - BASE64_KEY.length + 1;
  if (j < 0 || text.slice(j, q + 1) !== BASE64_KEY) return null;
  const b64 = text.slice(q + 1, -2);
  // Raw text equals the value only without escapes.
  if (b64.includes('\\')) return null;
  const bytes = Buffer.from(b64, 'base64');
  const bodyText = bytes.toString('utf8');
  const k = j - bodyText.length - BODY_KEY.length;
  // Sliced and compared with ===: startsWith compares a long string several times slower.
  // A backslash before `"body"` would escape its quote, and so bodyBase64's in the record
  // without X (a key `x\"bodyBase64`): the proof needs that quote to be a quote.
  if (k < 1 || text.charCodeAt(k - 1) === 92 || text.slice(k, k + BODY_KEY.length) !== BODY_KEY || text.slice(k + BODY_KEY.length, j) !== bodyText) return null;
  try {
    // X must be exactly one JSON value (the emulator stores a body that is not JSON as text):
    // checked without building it, and by JSON.parse when the quick check cannot tell.
    if (!isCompactJson(bodyText)) JSON.parse(bodyText);
    // B itself need not be parsed again when it is canonical base64: a decoder skips (or stops
    // at) any other character, and so yields fewer bytes than B's length promises. Then B holds
    // only characters a JSON string may hold raw, and an empty value stands in for it.
    const rest = canonicalBase64(b64, bytes.length) ? '"bodyBase64":""}' : text.slice(j + 1);
    const record = JSON.parse(text.slice(0, k) + rest) as Record<string, unknown>;
    return { record, bytes };
  } catch {
    return null;
  }
}

/** Whether `b64` is padded base64 that decoded to `decoded` bytes without a character skipped:
 * length a multiple of 4, and 3 bytes for every 4 characters less one per trailing `=`. */
function canonicalBase64(b64: string, decoded: number): boolean {
  const n = b64.length;
  if (n % 4 !== 0) return false;
  const pad = n && b64.charCodeAt(n - 1) === 61 ? (b64.charCodeAt(n - 2) === 61 ? 2 : 1) : 0;
  return decoded === (n / 4) * 3 - pad;
}
