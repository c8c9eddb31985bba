// A real TPM 2.0 simulator for tests: swtpm on free loopback ports with its state in a
// folder that can be reused to simulate a reboot. swtpm runs under a tiny shell guard that
// kills it when our stdin closes, so it dies with the test process even on SIGKILL.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { ADDON_PATH, Tpm } from '../../src/attest/tpm.js';
import { tempDir } from './paths.js';
import { unavailable } from './requirements.js';
import { portPair } from '../../src/bench/swtpm.js';

export interface Swtpm {
  /** TCTI string for Tpm.open(). */
  tcti: string;
  port: number;
  stateDir: string;
  /** Stops swtpm (SIGTERM, then SIGKILL after 5 s); resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
}

/** Why TPM tests cannot run here, or undefined when they can (under CI=true: a failure). */
export function tpmSkipReason(): string | undefined {
  if (spawnSync('swtpm', ['--version'], { stdio: 'ignore' }).status !== 0)
    return unavailable('swtpm is not installed', 'apt-get install swtpm swtpm-tools (scripts/setup does)');
  if (!existsSync(ADDON_PATH))
    return unavailable(`native/tpm2 is not built (${ADDON_PATH})`, 'apt-get install libtss2-dev pkg-config, then node scripts/build-native.mjs');
  return undefined;
}

/** Asks swtpm's control channel for its capabilities (CMD_GET_CAPABILITY). */
function answers(ctrlPort: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(ctrlPort, '127.0.0.1');
    let got = Buffer.alloc(0);
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('error', () => done(false));
    sock.on('connect', () => sock.write(Buffer.from([0, 0, 0, 1])));
    sock.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 8) done(got.readUInt32BE(0) === 0);
    });
  });
}

// $1.. are swtpm's arguments. The background reader kills swtpm when stdin reaches EOF:
// on stop() and whenever the test process dies. stdin is passed as fd 3 because sh gives
// background jobs /dev/null as their stdin.
const GUARD = 'exec 3<&0; swtpm "$@" </dev/null & pid=$!; echo "$pid"; ( read _ <&3; kill "$pid" 2>/dev/null ) & wait "$pid"';

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

async function attempt(stateDir: string): Promise<Swtpm | string> {
  const port = await portPair();
  const args = [
    'socket',
    '--tpm2',
    '--server',
    `type=tcp,port=${port},bindaddr=127.0.0.1`,
    '--ctrl',
    `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
    '--flags',
    'not-need-init,startup-clear',
    '--tpmstate',
    `dir=${stateDir}`,
  ];
  const child = spawn('sh', ['-c', GUARD, 'swtpm', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const swtpmPid = await new Promise<number | undefined>((resolve) => {
    child.stdout.once('data', (d) => resolve(Number.parseInt(String(d), 10)));
    child.once('exit', () => resolve(undefined));
  });
  const killNow = (): void => {
    try {
      if (swtpmPid) process.kill(swtpmPid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.on('exit', killNow);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      child.stdin.end();
      const timer = setTimeout(() => {
        killNow();
        child.kill('SIGKILL');
      }, 5000);
      await exited(child);
      clearTimeout(timer);
      process.removeListener('exit', killNow);
    })());

  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    if (await answers(port + 1)) {
      return { tcti: `swtpm:host=127.0.0.1,port=${port}`, port, stateDir, stop };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  return `swtpm did not start on port ${port}: ${stderr.trim() || 'no answer on the control port'}`;
}

/** Starts swtpm; pass the stateDir of a stopped instance to restart "the same TPM". */
export async function startSwtpm(options: { stateDir?: string } = {}): Promise<Swtpm> {
  const stateDir = options.stateDir ?? tempDir('percept-swtpm-');
  let last = '';
  // A port can be taken between probing and binding: retry with fresh ports.
  for (let i = 0; i < 5; i++) {
    const r = await attempt(stateDir);
    if (typeof r !== 'string') return r;
    last = r;
  }
  throw new Error(last);
}

/** A fresh swtpm and an open Tpm on it, both released when the test `t` ends (pass or fail). */
export async function openTestTpm(t: { after(fn: () => Promise<void> | void): void }): Promise<{ sw: Swtpm; tpm: Tpm }> {
  const sw = await startSwtpm();
  try {
    const tpm = await Tpm.open(sw.tcti);
    t.after(async () => {
      await tpm.close().catch(() => undefined);
      await sw.stop();
    });
    return { sw, tpm };
  } catch (e) {
    await sw.stop();
    throw e;
  }
}
