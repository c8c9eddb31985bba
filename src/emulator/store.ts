// Device-to-cloud messages as received: kept in memory (bounded; the oldest leave first and are
// counted) and appended to `<state>/messages.jsonl`, which is reloaded on the next start.
// Followers (the HTTP stream) are told of each new message.
import fs from 'node:fs';
import path from 'node:path';
import { jsonOrText } from './json.js';
import type { Identity, ReceivedMessage } from './types.js';
import { makePrivate } from '../state/modes.js';

export interface MessageQuery {
  deviceId?: string;
  /** undefined: any; null: device-level messages only; string: that module. */
  moduleId?: string | null;
  /** Messages enqueued at or after this time. */
  since?: Date;
  /** Messages with seq greater than this. */
  after?: number;
}

export function matches(m: ReceivedMessage, q: MessageQuery): boolean {
  if (q.deviceId !== undefined && m.deviceId !== q.deviceId) return false;
  if (q.moduleId !== undefined && m.moduleId !== q.moduleId) return false;
  if (q.since !== undefined && Date.parse(m.enqueuedTime) < q.since.getTime()) return false;
  if (q.after !== undefined && m.seq <= q.after) return false;
  return true;
}

/** Builds the record for a received message. */
export function toReceived(seq: number, id: Identity, system: Record<string, string>, app: Record<string, string>, payload: Buffer): ReceivedMessage {
  const enqueuedTime = new Date().toISOString();
  const text = payload.toString('utf8');
  const body = jsonOrText(text);
  return {
    seq,
    deviceId: id.deviceId,
    moduleId: id.moduleId,
    enqueuedTime,
    messageId: system.messageId ?? null,
    systemProperties: {
      ...system,
      'iothub-connection-device-id': id.deviceId,
      ...(id.moduleId === null ? {} : { 'iothub-connection-module-id': id.moduleId }),
      'iothub-enqueuedtime': enqueuedTime,
    },
    properties: app,
    body,
    bodyBase64: payload.toString('base64'),
  };
}

export class MessageStore {
  readonly file: string;
  readonly capacity: number;
  #messages: ReceivedMessage[] = [];
  #seq = 0;
  #evicted = 0;
  #followers = new Set<(m: ReceivedMessage) => void>();

  constructor(stateDir: string, capacity = 10_000) {
    this.file = path.join(stateDir, 'messages.jsonl');
    this.capacity = capacity;
    // Telemetry is the user's data: an older, world-readable log is closed up on start.
    makePrivate(this.file);
    this.#load();
  }

  /** Messages dropped from memory because the store was full (they stay in the file). */
  get evicted(): number {
    return this.#evicted;
  }

  get nextSeq(): number {
    return this.#seq + 1;
  }

  add(m: ReceivedMessage): void {
    this.#seq = Math.max(this.#seq, m.seq);
    fs.appendFileSync(this.file, JSON.stringify(m) + '\n', { mode: 0o600 });
    this.#push(m);
    for (const f of this.#followers) f(m);
  }

  query(q: MessageQuery = {}): ReceivedMessage[] {
    return this.#messages.filter((m) => matches(m, q));
  }

  follow(listener: (m: ReceivedMessage) => void): () => void {
    this.#followers.add(listener);
    return () => this.#followers.delete(listener);
  }

  #push(m: ReceivedMessage): void {
    this.#messages.push(m);
    if (this.#messages.length > this.capacity) {
      const drop = this.#messages.length - this.capacity;
      this.#messages.splice(0, drop);
      this.#evicted += drop;
    }
  }

  #load(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const m = JSON.parse(line) as ReceivedMessage;
        if (typeof m.seq !== 'number') m.seq = this.#seq + 1;
        this.#seq = Math.max(this.#seq, m.seq);
        this.#push(m);
      } catch {
        // a torn last line after a crash: skip it
      }
    }
  }
}
