// A throwaway swtpm for the benchmark: a TPM 2.0 simulator on a free loopback port pair with
// its state in a temp folder, killed when the bench is done or the process exits, so `percept
// bench` measures TPM signing without a TPM device.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface BenchTpm {
  tcti: string;
  stop(): Promise<void>;
}

/** Why no simulator can be started, or undefined when swtpm is installed. */
export function swtpmMissing(): string | undefined {
  return spawnSync('swtpm', ['--version'], { stdio: 'ignore' }).status === 0 ? undefined : 'swtpm is not installed (apt-get install swtpm)';
}

function bind(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

/** A port P with P+1 free too: the swtpm TCTI finds the control channel at P+1. */
export async function portPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const a = await bind(0);
    if (!a) continue;
    const port = (a.address() as net.AddressInfo).port;
    const b = port < 65535 ? await bind(port + 1) : undefined;
    await new Promise((r) => a.close(r));
    if (b) {
      await new Promise((r) => b.close(r));
      return port;
    }
  }
  throw new Error('no free loopback port pair for swtpm');
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startBenchTpm(): Promise<BenchTpm> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'percept-bench-tpm-'));
  const port = await portPair();
  const child = spawn(
    'swtpm',
    [
      'socket',
      '--tpm2',
      '--server',
      `type=tcp,port=${port},bindaddr=127.0.0.1`,
      '--ctrl',
      `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
      '--flags',
      'not-need-init,startup-clear',
      '--tpmstate',
      `dir=${dir}`,
    ],
    { stdio: 'ignore' },
  );
  const kill = (): void => {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', kill);
  const stop = async (): Promise<void> => {
    process.off('exit', kill);
    if (child.exitCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    if (await reachable(port + 1)) return { tcti: `swtpm:host=127.0.0.1,port=${port}`, stop };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`swtpm did not start on port ${port}`);
}
