// The attestation chain's digest: each message's SHA-256 covers its boot, sequence, the
// previous message's digest, the SHA-256 of its exact body bytes and its sorted application
// properties (minus the signature ones), so a verifier can recompute it from what it received.

import crypto from 'node:crypto';

export const CHAIN_VERSION = 'percept-chain/1';
/** The `prev` of the very first message a device ever sends. */
export const GENESIS = '0'.repeat(64);
export const SIGNATURE_PROPERTIES = ['percept-sig', 'percept-kid', 'percept-att'] as const;

export interface ChainFields {
  boot: string;
  seq: number;
  prev: string;
}

export function sha256Hex(data: Buffer | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** The canonical bytes that a message's digest is taken over. */
export function canonical(fields: ChainFields, body: Buffer, properties: Record<string, string>): string {
  const props = Object.entries(properties)
    .filter(([k]) => !(SIGNATURE_PROPERTIES as readonly string[]).includes(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([CHAIN_VERSION, fields.boot, fields.seq, fields.prev, sha256Hex(body), props]);
}

export function messageDigest(fields: ChainFields, body: Buffer, properties: Record<string, string>): string {
  return sha256Hex(canonical(fields, body, properties));
}

/** The properties every chained message carries. */
export function chainProperties(fields: ChainFields): Record<string, string> {
  return { 'percept-boot': fields.boot, 'percept-seq': String(fields.seq), 'percept-prev': fields.prev };
}

export function messageId(fields: Pick<ChainFields, 'boot' | 'seq'>): string {
  return `${fields.boot}:${fields.seq}`;
}
