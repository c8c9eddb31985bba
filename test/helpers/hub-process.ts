// The emulator as a real process (`percept hub`) on fixed loopback ports, so a test can
// SIGKILL it and start it again on the same ports and state folder, as a hub that crashes
// and comes back. What it received is read from its messages.jsonl, which survives restarts.
// PERCEPT_TEST_HUB_LOG=debug (or another level) keeps the emulator's log in <state>/hub.log.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CLI, ROOT, tempDir } from './paths.js';
import type { ReceivedMessage } from '../../src/emulator/index.js';

export interface HubProcess {
  stateDir: string;
  deviceId: string;
  connectionString: string;
  caPath: string;
  api: string;
  readonly pid: number | undefined;
  /** Starts it (again); resolves once it listens. */
  start(): Promise<void>;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
  /** Everything it received, across restarts, in arrival order. */
  messages(): ReceivedMessage[];
  /** Whether the device holds a live connection now (through the service API). */
  connected(): Promise<boolean>;
  /** Calls a direct method on the device through the service API. */
  invoke(name: string, payload?: unknown): Promise<{ status: number; payload: unknown }>;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export async function startHubProcess(opts: { deviceId?: string } = {}): Promise<HubProcess> {
  const stateDir = tempDir('percept-hubproc-');
  const deviceId = opts.deviceId ?? 'chaos-device';
  const [mqtt, apiPort] = [await freePort(), await freePort()];
  let child: ChildProcess | null = null;
  const killNow = () => child?.exitCode === null && child.kill('SIGKILL');
  process.on('exit', killNow);
  const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())));
  const h: HubProcess = {
    stateDir,
    deviceId,
    connectionString: '',
    caPath: path.join(stateDir, 'ca.pem'),
    api: `http://127.0.0.1:${apiPort}`,
    get pid() {
      return child?.pid;
    },
    async start() {
      const c = spawn(
        process.execPath,
        [
          CLI,
          'hub',
          '--state',
          stateDir,
          '--mqtt-port',
          String(mqtt),
          '--api-port',
          String(apiPort),
          '--ws-port',
          'off',
          // Any free port: the default 8885 is percept start's, which may run beside this test.
          '--files-port',
          '0',
          '--device',
          deviceId,
          '--log-level',
          process.env.PERCEPT_TEST_HUB_LOG ?? 'warn',
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = c;
      let out = '';
      let err = '';
      c.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (process.env.PERCEPT_TEST_HUB_LOG) fs.appendFileSync(path.join(stateDir, 'hub.log'), d);
      });
      await new Promise<void>((resolve, reject) => {
        c.stdout.on('data', (d) => {
          out += d;
          const cs = new RegExp(`HostName=[^;\\s]+;DeviceId=${deviceId};\\S+`).exec(out);
          if (cs) {
            h.connectionString = cs[0];
            resolve();
          }
        });
        c.once('exit', (code) => reject(new Error(`the emulator exited (${code}) while starting: ${err}`)));
      });
    },
    async kill() {
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
    },
    async stop() {
      if (!child) return;
      child.kill('SIGTERM');
      await exited(child);
      process.off('exit', killNow);
    },
    messages() {
      const out: ReceivedMessage[] = [];
      let text = '';
      try {
        text = fs.readFileSync(path.join(stateDir, 'messages.jsonl'), 'utf8');
      } catch {
        return out;
      }
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        try {
          out.push(JSON.parse(line) as ReceivedMessage);
        } catch {
          // a line torn by SIGKILL: its message was never acknowledged, so it is sent again
        }
      }
      return out;
    },
    async connected() {
      try {
        const r = await fetch(`${h.api}/devices`);
        const list = (await r.json()) as Array<{ deviceId: string; connected: boolean }>;
        return list.some((d) => d.deviceId === deviceId && d.connected);
      } catch {
        return false;
      }
    },
    async invoke(name, payload = null) {
      const r = await fetch(`${h.api}/devices/${deviceId}/methods/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ payload, timeoutSeconds: 10 }),
      });
      return (await r.json()) as { status: number; payload: unknown };
    },
  };
  await h.start();
  return h;
}
