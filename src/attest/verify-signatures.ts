// Checks the verifier's ECDSA signatures in one worker thread, in batches. Dispatching each
// check to the libuv pool cost the main thread about as much as the check itself (OpenSSL 3
// sets up and locks per call), a sixth of the verifier's time; a batch costs one message.
// Batches are small enough that the last one, which the verifier waits for, is short.
import crypto, { type KeyObject } from 'node:crypto';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

/** [index into the batch's keys, digest in hex, signature in base64] */
type Job = [number, string, string];
type Verdict = (good: boolean) => void;
type ToWorker = { keys: KeyObject[]; id: number; jobs: Job[] };
type FromWorker = { id: number; good: boolean[] };

const ROLE = 'percept-verify-signatures';
const BATCH = 64;

/** A signature that is malformed (not DER) makes verify throw or fail: either way it is bad. */
/** Whether `sig` is `key`'s signature over the digest; a job naming no known key is not. */
function check(key: KeyObject | undefined, digestHex: string, sig: string): boolean {
  if (key === undefined) return false;
  try {
    return crypto.verify('sha256', Buffer.from(digestHex, 'hex'), key, Buffer.from(sig, 'base64'));
  } catch {
    return false;
  }
}

if (!isMainThread && workerData === ROLE && parentPort) {
  const port = parentPort;
  port.on('message', (m: ToWorker) => {
    port.postMessage({ id: m.id, good: m.jobs.map(([i, d, s]) => check(m.keys[i], d, s)) } satisfies FromWorker);
  });
}

interface Batch {
  /** The keys the batch uses (a stream has one or two), sent with it. */
  keys: KeyObject[];
  jobs: Job[];
  verdicts: Verdict[];
}

/** One worker for the process, started on first use and unreferenced while idle, so it
 * neither keeps a finished CLI alive nor multiplies with many verifiers in one process. */
class SignatureChecker {
  #worker: Worker | null = null;
  #open: Batch = { keys: [], jobs: [], verdicts: [] };
  #inFlight = new Map<number, Batch>();
  #nextId = 0;

  check(key: KeyObject, digestHex: string, sig: string, verdict: Verdict): void {
    let i = this.#open.keys.indexOf(key);
    if (i === -1) i = this.#open.keys.push(key) - 1;
    this.#open.jobs.push([i, digestHex, sig]);
    this.#open.verdicts.push(verdict);
    if (this.#open.jobs.length >= BATCH) this.flush();
  }

  /** Sends the open batch; a caller about to wait for verdicts must call it first. */
  flush(): void {
    const batch = this.#open;
    if (!batch.jobs.length) return;
    this.#open = { keys: [], jobs: [], verdicts: [] };
    const w = this.#start();
    if (!w) return this.#checkHere(batch);
    const id = this.#nextId++;
    this.#inFlight.set(id, batch);
    if (this.#inFlight.size === 1) w.ref();
    w.postMessage({ keys: batch.keys, id, jobs: batch.jobs } satisfies ToWorker);
  }

  #start(): Worker | null {
    if (this.#worker) return this.#worker;
    let w: Worker;
    try {
      w = new Worker(new URL(import.meta.url), { workerData: ROLE });
    } catch {
      return null;
    }
    w.on('message', (m: FromWorker) => {
      const batch = this.#inFlight.get(m.id);
      if (!batch) return;
      this.#inFlight.delete(m.id);
      if (!this.#inFlight.size) w.unref();
      batch.verdicts.forEach((v, n) => v(m.good[n] === true));
    });
    // A worker that dies takes no verdict with it: its batches are checked here instead.
    const lost = (): void => {
      if (this.#worker !== w) return;
      this.#worker = null;
      const batches = [...this.#inFlight.values()];
      this.#inFlight.clear();
      for (const b of batches) this.#checkHere(b);
    };
    w.on('error', lost);
    w.on('exit', lost);
    this.#worker = w;
    return w;
  }

  #checkHere(batch: Batch): void {
    batch.jobs.forEach(([i, d, s], n) => batch.verdicts[n]?.(check(batch.keys[i], d, s))); // verdicts parallels jobs
  }
}

let shared: SignatureChecker | undefined;

export function signatureChecker(): SignatureChecker {
  return (shared ??= new SignatureChecker());
}
