// Where the verifier reads received messages from: one small interface, so an Event Hubs
// (or storage) reader can stand next to the emulator's messages.jsonl reader. The digest is
// taken over the body bytes as received, so a source must hand over bytes, never re-encode.
import fs from 'node:fs';
import { PerceptError } from '../errors.js';

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
}

export interface MessageSource {
  /** Names the input in reports and errors (a path, a hub and consumer group, ...). */
  readonly description: string;
  /** The messages in arrival order; rejects with ERR_INPUT on input it cannot read. */
  messages(): AsyncIterable<ReceivedMessage>;
}

function inputError(where: string, why: string): PerceptError {
  return new PerceptError('ERR_INPUT', `${where}: ${why}`);
}

/**
 * One object per line as the emulator writes `<state>/messages.jsonl` (and serves
 * `/devices/{id}/messages?format=ndjson`): `{deviceId, moduleId, messageId, properties,
 * bodyBase64, ...}`. Only the fields the chain needs are read; `body` (the parsed copy) is ignored.
 */
export class JsonlMessageSource implements MessageSource {
  readonly description: string;
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
    this.description = file;
  }

  async *messages(): AsyncIterable<ReceivedMessage> {
    let stream: fs.ReadStream;
    try {
      await fs.promises.access(this.#file, fs.constants.R_OK);
      stream = fs.createReadStream(this.#file, { encoding: 'utf8', highWaterMark: 1 << 20 });
    } catch (e) {
      throw inputError(this.#file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); pass the emulator's <state>/messages.jsonl`);
    }
    let rest = '';
    let line = 0;
    for await (const chunk of stream as AsyncIterable<string>) {
      const text = rest + chunk;
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        line++;
        const m = this.#parse(text.slice(start, nl), line);
        if (m) yield m;
        start = nl + 1;
      }
      rest = text.slice(start);
    }
    if (rest.length) {
      const m = this.#parse(rest, ++line);
      if (m) yield m;
    }
  }

  // Checked by hand rather than with a schema: this runs for every message, and the verifier
  // must keep up with tens of thousands a second.
  #parse(raw: string, line: number): ReceivedMessage | null {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return null;
    const where = `${this.#file}:${line}`;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw inputError(where, `not a JSON object (${(e as Error).message})`);
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw inputError(where, 'not a JSON object');
    if (typeof o.deviceId !== 'string' || o.deviceId === '') throw inputError(where, 'expected a string deviceId');
    if (o.moduleId !== undefined && o.moduleId !== null && typeof o.moduleId !== 'string') throw inputError(where, 'expected moduleId to be a string or null');
    if (o.messageId !== undefined && o.messageId !== null && typeof o.messageId !== 'string') throw inputError(where, 'expected messageId to be a string or null');
    if (typeof o.bodyBase64 !== 'string') throw inputError(where, 'expected bodyBase64 (the body bytes as received); the parsed body alone cannot be hashed');
    const props = o.properties ?? {};
    if (typeof props !== 'object' || props === null || Array.isArray(props)) throw inputError(where, 'expected properties to be an object');
    for (const v of Object.values(props)) if (typeof v !== 'string') throw inputError(where, 'expected every application property to be a string');
    return {
      deviceId: o.deviceId,
      moduleId: (o.moduleId as string | null | undefined) ?? null,
      messageId: (o.messageId as string | null | undefined) ?? null,
      properties: props as Record<string, string>,
      body: Buffer.from(o.bodyBase64, 'base64'),
      position: line,
    };
  }
}
