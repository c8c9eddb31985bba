// A process to kill between the chain writer and the outbox's commit: it commits a few
// messages, then starts a signed one whose signer never answers (the row is chained, its
// digest known, nothing committed), prints that state as one JSON line and waits to be killed.
import path from 'node:path';
import { Outbox } from '../../src/hub/outbox.js';
import { ChainWriter } from '../../src/telemetry/chain-writer.js';
import { SoftwareSigner } from '../../src/attest/software.js';
import type { Signer } from '../../src/attest/signer.js';
import { message } from './delivery.js';

const [file, keyFile] = process.argv.slice(2) as [string, string];
const key = await SoftwareSigner.open(keyFile);
let hang: ((digest: string) => void) | null = null;
// The real key, except that once `hang` is set a signature never comes.
const signer: Signer = {
  kid: key.kid,
  publicKeyPem: key.publicKeyPem,
  attestation: key.attestation,
  sign: (digest) => (hang ? new Promise<Buffer>(() => hang!(digest.toString('hex'))) : key.sign(digest)),
  close: () => key.close(),
};
const outbox = new Outbox(path.resolve(file));
const writer = new ChainWriter(outbox, { signer });
for (let i = 0; i < 5; i++) await writer.write([message(i, 512)]);
await writer.write([message(5, 512)], { sign: true });
for (let i = 6; i < 9; i++) await writer.write([message(i, 512)]);
const committed = writer.head;
hang = (pending) => process.stdout.write(`${JSON.stringify({ boot: writer.boot, committed, pending })}\n`);
void writer.write([message(9, 512), message(10, 512)], { sign: true });
// Queued behind the one being signed: chained only after it, so never.
void writer.write([message(11, 512)]);
setInterval(() => undefined, 60_000);
