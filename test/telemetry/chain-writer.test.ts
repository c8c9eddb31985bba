// The chain's one writer over the real outbox: a message the outbox refuses (at its bound, or
// on a full disk) or that cannot be signed takes no sequence number, and a process killed
// between the writer and the commit leaves no gap: the next boot continues from the stored head.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Outbox, type OutboxRow } from '../../src/hub/outbox.js';
import { ChainWriter } from '../../src/telemetry/chain-writer.js';
import { messageDigest } from '../../src/telemetry/chain.js';
import { SoftwareSigner } from '../../src/attest/software.js';
import type { Signer } from '../../src/attest/signer.js';
import { PerceptError } from '../../src/errors.js';
import { message } from '../helpers/delivery.js';
import { tempDir } from '../helpers/paths.js';

const file = () => path.join(tempDir('percept-writer-'), 'outbox.db');

/** Each row's digest recomputed from what it carries, and each row pointing at the one before. */
function assertChain(rows: OutboxRow[], from: string): void {
  let prev = from;
  for (const [i, r] of rows.entries()) {
    assert.equal(r.prev, prev, `row ${i} (${r.messageId}) points at the row before it`);
    assert.equal(messageDigest({ boot: r.boot, seq: r.seq, prev: r.prev }, r.body, r.properties), r.digest, `row ${i} digest`);
    if (i > 0 && r.boot === rows[i - 1]!.boot) assert.equal(r.seq, rows[i - 1]!.seq + 1, `row ${i} follows in sequence`);
    prev = r.digest;
  }
}

async function refused(p: Promise<unknown>): Promise<PerceptError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  assert.ok(e instanceof PerceptError, `refused, got ${String(e)}`);
  return e;
}

test('a message the outbox refuses at its bound takes no sequence number', async () => {
  const o = new Outbox(file(), { maxBytes: 20_000, whenFull: 'refuse-new', reserveBytes: 0 });
  const w = new ChainWriter(o);
  let last: OutboxRow | undefined;
  for (let i = 0; i < 9; i++) [last] = await w.write([message(i)]);
  const before = w.head;
  assert.equal(before.seq, 9);
  const e = await refused(w.write([message(9), message(10)]));
  assert.equal(e.code, 'ERR_OUTBOX_FULL');
  assert.deepEqual(w.head, before, 'the head did not move');
  assert.equal(o.stats().dropped.outbox_full, 2);
  // Room again: the next message takes the next number and points at the last committed one.
  assert.ok(o.ack(o.peek(0, 5).map((r) => r.id)));
  const [next] = await w.write([message(11)]);
  assert.equal(next!.seq, 10);
  assert.equal(next!.prev, last!.digest);
  assertChain(o.peek(0, 100), o.peek(0, 1)[0]!.prev);
  o.close();
});

test('refused at the commit (a full disk) or unsigned (a failing signer): no sequence number either', async () => {
  const dir = tempDir('percept-writer-');
  const key = await SoftwareSigner.open(path.join(dir, 'key.pem'));
  let fail = false;
  const signer: Signer = {
    kid: key.kid,
    publicKeyPem: key.publicKeyPem,
    attestation: key.attestation,
    sign: (d) => (fail ? Promise.reject(new PerceptError('ERR_TPM', 'the TPM is gone')) : key.sign(d)),
    close: () => key.close(),
  };
  const o = new Outbox(path.join(dir, 'outbox.db'), { maxBytes: 1_000_000, whenFull: 'refuse-new', reserveBytes: 0 });
  const w = new ChainWriter(o, { signer });
  for (let i = 0; i < 3; i++) await w.write([message(i)], { sign: i === 2 });
  const before = w.head;
  assert.ok(before.signed);

  fail = true;
  const unsigned = await refused(w.write([message(3)], { sign: true }));
  assert.equal(unsigned.code, 'ERR_TPM');
  assert.deepEqual(w.head, before);
  fail = false;

  // Concurrent writes share one commit; a refused one in the middle leaves no hole between the others.
  const results = await Promise.allSettled([w.write([message(4)]), w.write([message(5, 2_000_000)]), w.write([message(6)], { sign: true })]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  const rows = o.peek(0, 100);
  assert.deepEqual(
    rows.map((r) => r.seq),
    [1, 2, 3, 4, 5],
  );
  assertChain(rows, rows[0]!.prev);
  assert.ok(w.head.signed && w.head.seq === 5);

  // The disk fills: SQLite refuses the transaction, the writer does not advance.
  const atFull = w.head;
  o.setPageLimit(1);
  const full = await refused(w.write([message(8)]));
  assert.equal(full.code, 'ERR_OUTBOX_FULL');
  assert.match(full.message, /disk is full/);
  assert.deepEqual(w.head, atFull);
  assert.equal(o.stats().dropped.disk_full, 1);

  o.close();
});

test('a process killed between the writer and the commit leaves no gap: the next boot continues from the stored head', { timeout: 30_000 }, async () => {
  const dir = tempDir('percept-writer-crash-');
  const db = path.join(dir, 'outbox.db');
  const child = spawn(process.execPath, [fileURLToPath(new URL('../helpers/chain-crash-child.js', import.meta.url)), db, path.join(dir, 'key.pem')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.on('exit', killGroup);
  let out = '';
  const state = await new Promise<{ boot: string; committed: { seq: number; digest: string }; pending: string }>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0] ?? '') as { boot: string; committed: { seq: number; digest: string }; pending: string });
    });
    child.once('exit', (code) => reject(new Error(`the child exited (${code}) before it was killed`)));
  });
  const gone = new Promise((r) => child.once('exit', r));
  killGroup();
  await gone;
  process.off('exit', killGroup);
  assert.equal(state.committed.seq, 9);

  const o = new Outbox(db);
  const w = new ChainWriter(o);
  const rows1 = o.peek(0, 100);
  assert.deepEqual(
    rows1.map((r) => r.seq),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
    'the killed boot stored what it committed, and only that',
  );
  assert.ok(
    rows1.every((r) => r.boot === state.boot && r.digest !== state.pending),
    'the chained but uncommitted message is not there',
  );
  assert.equal(rows1.at(-1)!.digest, state.committed.digest);
  const [first] = await w.write([message(100)]);
  assert.equal(first!.seq, 1);
  assert.equal(first!.prev, state.committed.digest, 'the new boot points at the last committed digest, not at the lost one');
  assertChain(o.peek(0, 100), rows1[0]!.prev);
  o.close();
});

test('checkpoint policy: one signature per interval rides on telemetry; a quiet unsigned tail gets a standalone checkpoint; shutdown signs the tail', async () => {
  const dir = tempDir('percept-writer-');
  const signer = await SoftwareSigner.open(path.join(dir, 'key.pem'));
  const o = new Outbox(path.join(dir, 'outbox.db'), { reserveBytes: 0 });
  // An interval no test run reaches: only the first publish of it is due.
  const w = new ChainWriter(o, { signer, checkpointMs: 3_600_000, identity: { deviceId: 'dev-1' } });
  const signed = (r: OutboxRow | undefined) => r !== undefined && 'percept-sig' in r.properties;
  assert.equal(await w.checkpoint(true), null, 'nothing written yet: nothing to sign');
  const [a] = await w.publish([message(0)]);
  const [b] = await w.publish([message(1)]);
  assert.ok(signed(a) && !signed(b), 'the first message of the interval carries the signature, the next does not');
  assert.equal(w.head.signed, false);
  assert.equal(await w.checkpoint(), null, 'telemetry flowed within the interval: no standalone checkpoint');
  const cp = await w.checkpoint(true);
  assert.ok(signed(cp ?? undefined) && cp!.properties.eventType === 'checkpoint' && cp!.seq === 3);
  assert.equal((JSON.parse(cp!.body.toString('utf8')) as { deviceId: string }).deviceId, 'dev-1');
  assert.equal(await w.checkpoint(true), null, 'the tail is signed already');
  // Shutdown: what is published while closing is signed, so it adds no checkpoint message.
  await w.publish([message(2)]);
  w.closing();
  const [last] = await w.publish([message(3)]);
  await w.close();
  assert.ok(signed(last));
  assert.deepEqual(
    o.peek(0, 100).map((r) => r.seq),
    [1, 2, 3, 4, 5],
  );
  // With an unsigned tail at close, a standalone checkpoint closes the chain.
  const w2 = new ChainWriter(o, { signer, checkpointMs: 3_600_000 });
  await w2.write([message(4)]);
  await w2.close();
  const rows = o.peek(0, 100);
  assert.ok(signed(rows.at(-1)) && rows.at(-1)!.properties.eventType === 'checkpoint' && rows.at(-1)!.seq === 2);
  assertChain(rows, rows[0]!.prev);
  o.close();
});
