// The addon keeps its state per Node environment: it loads and signs inside worker
// threads, and a worker terminated with TPM calls in flight releases its connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { createHash, verify } from 'node:crypto';
import { once } from 'node:events';
import { openTestTpm, tpmSkipReason } from '../helpers/swtpm.js';
import { HANDLES } from '../../src/attest/handles.js';
import { at } from '../helpers/at.js';

const skip = tpmSkipReason();
const TPM_MODULE = new URL('../../src/attest/tpm.js', import.meta.url).href;

// Runs in the worker: open, sign `count` digests, report, and optionally keep signing.
const WORKER = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { createHash } = require('node:crypto');
  import(workerData.module).then(async ({ Tpm }) => {
    const tpm = await Tpm.open(workerData.tcti);
    const digest = createHash('sha256').update(workerData.message).digest();
    const sig = await tpm.sign(workerData.handle, digest);
    parentPort.postMessage({ sig });
    if (workerData.forever) {
      // Keep the TPM busy until the parent terminates us.
      for (;;) await Promise.all(Array.from({ length: 32 }, () => tpm.sign(workerData.handle, digest)));
    }
    await tpm.close();
  }).catch((e) => parentPort.postMessage({ error: String(e && e.message) }));
`;

function startWorker(tcti: string, message: string, forever = false): Worker {
  return new Worker(WORKER, {
    eval: true,
    workerData: { module: TPM_MODULE, tcti, handle: HANDLES.signing, message, forever },
  });
}

test('the addon signs inside worker threads, two at once, and in the main thread', { skip, timeout: 60_000 }, async (t) => {
  const { sw, tpm } = await openTestTpm(t);
  await tpm.ensureKeys();
  const pub = await tpm.readPublic(HANDLES.signing);
  const workers = [startWorker(sw.tcti, 'from worker 1'), startWorker(sw.tcti, 'from worker 2')];
  // Listen for exit now: a worker may finish before its message has been handled here.
  const exits = workers.map((w) => once(w, 'exit'));
  const replies = await Promise.all(workers.map((w) => once(w, 'message')));
  type Reply = { error?: string; sig: string };
  const [m1, m2] = [at(at(replies, 0), 0) as Reply, at(at(replies, 1), 0) as Reply];
  for (const [m, text] of [
    [m1, 'from worker 1'],
    [m2, 'from worker 2'],
  ] as const) {
    assert.equal(m.error, undefined);
    assert.ok(verify('sha256', Buffer.from(text), pub.publicKey!, Buffer.from(m.sig)));
  }
  assert.deepEqual(
    (await Promise.all(exits)).map(([code]) => code as number),
    [0, 0],
  );
  // The main thread's context kept working meanwhile.
  const sig = await tpm.sign(HANDLES.signing, createHash('sha256').update('main').digest());
  assert.ok(verify('sha256', Buffer.from('main'), pub.publicKey!, sig));
});

test('terminating a worker with signs in flight neither hangs nor leaks', { skip, timeout: 60_000 }, async (t) => {
  const { sw, tpm } = await openTestTpm(t);
  await tpm.ensureKeys();
  const w = startWorker(sw.tcti, 'busy', true);
  const m = at(await once(w, 'message'), 0) as { error?: string };
  assert.equal(m.error, undefined);
  await new Promise((r) => setTimeout(r, 50)); // let it queue more signs
  await w.terminate();
  // The TPM still answers the main thread, and holds no object the worker left behind.
  const handles = await tpm.handles();
  assert.deepEqual(handles.transient, []);
  assert.deepEqual(handles.sessions, []);
  assert.equal((await tpm.getRandom(16)).length, 16);
});
