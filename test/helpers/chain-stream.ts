// Recorded telemetry streams for verifier tests, made by the real Outbox (one Outbox per
// boot over the same database, so boots link as on a device) and a real signer, written
// as the emulator writes messages.jsonl; plus the mutations an attacker could make.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Outbox, type OutboxRow } from '../../src/hub/outbox.js';
import { ChainWriter } from '../../src/telemetry/chain-writer.js';
import { SoftwareSigner } from '../../src/attest/software.js';
import type { Signer } from '../../src/attest/signer.js';
import type { KeysFile } from '../../src/attest/keys.js';
import { KeyRing } from '../../src/attest/keys.js';
import type { MessageSource, ReceivedMessage } from '../../src/attest/messages.js';
import { verifyMessages, type Report, type VerifyOptions } from '../../src/attest/verify.js';
import { messageDigest } from '../../src/telemetry/chain.js';
import { tempDir } from './paths.js';
import type { ReceivedMessage as EmulatorMessage } from '../../src/emulator/types.js';
import { at, must } from './at.js';

/** One line of the emulator's messages.jsonl (the log position aside, which the verifier ignores). */
export type Line = Omit<EmulatorMessage, 'seq'>;

export interface Recorded {
  lines: Line[];
  keys: KeysFile;
  signer: Signer;
}

function toLine(row: OutboxRow, deviceId: string): Line {
  const text = row.body.toString('utf8');
  return {
    deviceId,
    moduleId: null,
    enqueuedTime: new Date(row.createdAt).toISOString(),
    messageId: row.messageId,
    systemProperties: { messageId: row.messageId, contentType: row.contentType, contentEncoding: row.contentEncoding },
    properties: { ...row.properties },
    body: JSON.parse(text),
    bodyBase64: row.body.toString('base64'),
  };
}

/**
 * Boots of `sizes[i]` messages each; every `every`-th message and the last of each boot are
 * checkpoints (as the agent signs at least once a second and at shutdown), except that the
 * last `unsignedTail` messages of the final boot carry no signature.
 */
export async function recordStream(opts: { sizes: number[]; every?: number; unsignedTail?: number; deviceId?: string; signer?: Signer }): Promise<Recorded> {
  const dir = tempDir('percept-chain-');
  const deviceId = opts.deviceId ?? 'dev-1';
  const signer = opts.signer ?? (await SoftwareSigner.open(path.join(dir, 'key.pem')));
  const every = opts.every ?? 4;
  const lines: Line[] = [];
  for (const [b, size] of opts.sizes.entries()) {
    const outbox = new Outbox(path.join(dir, 'outbox.db'));
    const writer = new ChainWriter(outbox, { signer });
    for (let i = 0; i < size; i++) {
      const finalBoot = b === opts.sizes.length - 1;
      const tailStart = finalBoot ? size - (opts.unsignedTail ?? 0) : size;
      const sign = i < tailStart && ((i + 1) % every === 0 || i === size - 1);
      const body = Buffer.from(
        JSON.stringify({
          schema: 'percept.detections/1',
          deviceId,
          boot: b,
          n: i,
          counts: { dog: (i * 7) % 5 },
          frames: [{ seq: i, detections: [{ label: 'dog', confidence: 0.8 + (i % 10) / 100 }] }],
        }),
      );
      const [row] = await writer.write(
        [
          {
            body,
            contentType: 'application/json',
            contentEncoding: 'utf-8',
            properties: { schema: 'percept.detections/1', eventType: 'detections', source: 'door' },
          },
        ],
        { sign },
      );
      lines.push(toLine(must(row, 'the written row'), deviceId));
    }
    outbox.close();
  }
  return { lines, signer, keys: { [deviceId]: { keys: [{ kid: signer.kid, publicKeyPem: signer.publicKeyPem, attestation: signer.attestation }] } } };
}

export const copy = (l: Line): Line => ({ ...l, properties: { ...l.properties }, systemProperties: { ...l.systemProperties } });

/** The message with one detection changed, still valid JSON: what a forger would send. */
export function forgeBody(l: Line): Line {
  const body = JSON.parse(Buffer.from(l.bodyBase64, 'base64').toString('utf8')) as { counts: { dog: number } };
  body.counts.dog += 1;
  return { ...copy(l), body, bodyBase64: Buffer.from(JSON.stringify(body)).toString('base64') };
}

export function without(lines: Line[], i: number): Line[] {
  return lines.filter((_, j) => j !== i);
}

export function swapped(lines: Line[], i: number): Line[] {
  const out = [...lines];
  out.splice(i, 2, at(lines, i + 1), at(lines, i));
  return out;
}

export function inserted(lines: Line[], at: number, l: Line): Line[] {
  return [...lines.slice(0, at), l, ...lines.slice(at)];
}

export function replaced(lines: Line[], i: number, l: Line): Line[] {
  return lines.map((x, j) => (j === i ? l : x));
}

/** Signs `l`'s checkpoint again with another key (same digest), claiming `kid`. */
export function resign(l: Line, key: crypto.KeyObject, kid: string): Line {
  const c = copy(l);
  return {
    ...c,
    properties: { ...c.properties, 'percept-sig': crypto.sign('sha256', Buffer.from(digestOf(l), 'hex'), key).toString('base64'), 'percept-kid': kid },
  };
}

export function digestOf(l: Line): string {
  return messageDigest(
    { boot: prop(l, 'percept-boot'), seq: Number(prop(l, 'percept-seq')), prev: prop(l, 'percept-prev') },
    Buffer.from(l.bodyBase64, 'base64'),
    l.properties,
  );
}

/** The lines as a MessageSource, positions from 1 as JSONL line numbers would be. */
export function arraySource(lines: Line[]): MessageSource {
  return {
    description: 'test stream',
    async *messages(): AsyncIterable<ReceivedMessage> {
      for (const [i, l] of lines.entries()) {
        yield {
          deviceId: l.deviceId,
          moduleId: l.moduleId,
          messageId: l.messageId,
          properties: l.properties,
          body: Buffer.from(l.bodyBase64, 'base64'),
          position: i + 1,
        };
      }
    },
  };
}

export function verifyLines(lines: Line[], keys: KeysFile, opts: VerifyOptions = {}): Promise<Report> {
  return verifyMessages(arraySource(lines), KeyRing.fromJson(keys), opts);
}

export function writeJsonl(lines: Line[], file = path.join(tempDir('percept-verify-'), 'messages.jsonl')): string {
  fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return file;
}

/** An application property the line must carry. */
export const prop = (l: Line, key: string): string => must(l.properties[key], `${key} on ${l.messageId}`);
export const boot = (l: Line): string => prop(l, 'percept-boot');
export const seq = (l: Line): number => Number(l.properties['percept-seq']);
