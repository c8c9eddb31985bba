// The emulator as a local child process, for `percept start`: starts `percept hub` in its own
// process group on the usual ports (or free ones when those are busy), waits for its ports.json,
// calls its service API on loopback with JSON, as the API requires, registers the device and
// follows the messages it receives.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { PerceptError } from '../errors.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli.js');

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function startHub(stateDir: string, onChild: (c: ChildProcess) => void): Promise<{ child: ChildProcess; api: number; mqtt: number }> {
  try {
    return await spawnHub(stateDir, onChild, true);
  } catch (e) {
    // Another process took a usual port between the check and the hub's bind: free ones, then.
    if (!(e instanceof PerceptError && e.message.includes('[PortInUse]'))) throw e;
    return spawnHub(stateDir, onChild, false);
  }
}

async function spawnHub(stateDir: string, onChild: (c: ChildProcess) => void, usual: boolean): Promise<{ child: ChildProcess; api: number; mqtt: number }> {
  const ports = path.join(stateDir, 'ports.json');
  fs.rmSync(ports, { force: true });
  const port = async (p: number) => (usual && (await portFree(p)) ? p : 0);
  const [mqtt, api, files] = [await port(8883), await port(8884), await port(8885)];
  const child = spawn(
    process.execPath,
    [
      CLI,
      'hub',
      '--state',
      stateDir,
      '--mqtt-port',
      String(mqtt),
      '--api-port',
      String(api),
      '--files-port',
      String(files),
      '--ws-port',
      'off',
      '--log-level',
      'warn',
    ],
    {
      // stdin: a pipe that closes when this process is gone, however it ends; the hub stops then.
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env, PERCEPT_HUB_PARENT_PIPE: '1' },
      // Its own process group: Ctrl-C stops the agent, which drains to the hub before the hub stops.
      detached: true,
    },
  );
  // The pipe does not keep this process alive.
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  onChild(child);
  let stderr = '';
  child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      // Its last words (a port in use is retried on free ports) may still be in the pipe.
      if (!child.stderr.closed) {
        await new Promise<void>((r) => {
          child.stderr.once('close', r);
          setTimeout(r, 1000).unref();
        });
      }
      throw new PerceptError('ERR_EMULATOR', `the IoT Hub emulator exited: ${stderr.trim()}`);
    }
    try {
      const p = JSON.parse(fs.readFileSync(ports, 'utf8')) as { mqtt: number; api: number };
      return { child, api: p.api, mqtt: p.mqtt };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill();
  throw new PerceptError('ERR_EMULATOR', 'the IoT Hub emulator did not start within 20 s');
}

/**
 * Starts the emulator child for `percept start` and guards its start-up: the child is in its own
 * process group, so a closed terminal (SIGHUP) or Ctrl-C reaches only us; until `run` takes the
 * signals over, one ends the start-up and the emulator with it. The guard stays until `stop()`
 * (removing the last handler would let a signal kill us outright while `run` sets up its own);
 * once `run` listens too, it leaves the signal to it.
 */
export async function startLocalHub(stateDir: string): Promise<{ api: number; mqtt: number; stop: () => void }> {
  let child: ChildProcess | null = null;
  const early = (sig: NodeJS.Signals) => {
    if (process.listenerCount(sig) > 1) return;
    if (child?.exitCode === null) child.kill('SIGTERM');
    process.exit(128 + (os.constants.signals[sig] ?? 1));
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const unguard = () => {
    for (const sig of signals) process.off(sig, early);
  };
  for (const sig of signals) process.on(sig, early);
  const hub = await startHub(stateDir, (c) => (child = c)).catch((e: unknown) => {
    unguard();
    throw e;
  });
  const kill = () => hub.child.exitCode === null && hub.child.kill('SIGTERM');
  process.on('exit', kill);
  return {
    api: hub.api,
    mqtt: hub.mqtt,
    stop: () => {
      unguard();
      kill();
      process.off('exit', kill);
    },
  };
}

export function request(port: number, method: string, urlPath: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      { host: '127.0.0.1', port, method, path: urlPath, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** Registers the device (an existing one is fine) and returns its connection string. */
export async function registerDevice(api: number, deviceId: string): Promise<string> {
  const added = await request(api, 'POST', '/devices', { id: deviceId });
  if (added.status >= 300 && added.status !== 409)
    throw new PerceptError('ERR_EMULATOR', `could not register device ${deviceId}: ${JSON.stringify(added.json)}`);
  const got = await request(api, 'GET', `/devices/${encodeURIComponent(deviceId)}`);
  const cs = (got.json as { connectionString?: string } | null)?.connectionString ?? (added.json as { connectionString?: string } | null)?.connectionString;
  if (!cs) throw new PerceptError('ERR_EMULATOR', `the emulator did not return a connection string for ${deviceId}`);
  return cs;
}

interface StreamedMessage {
  enqueuedTime: string;
  messageId?: string;
  properties?: Record<string, string>;
  body?: { counts?: Record<string, number>; window?: { frames: number }; source?: { id: string }; type?: string; label?: string; id?: string };
  bodyBase64?: string;
}

/** One line for a received message: when, which, from which source, what it counted (or the track event), its size. */
function describeMessage(m: StreamedMessage): string {
  const head = `hub <- ${m.enqueuedTime.slice(11, 19)} ${m.messageId ?? ''} ${m.body?.source?.id ?? m.properties?.source ?? ''}:`;
  const bytes = m.bodyBase64 ? Math.round((m.bodyBase64.length * 3) / 4) : 0;
  if (m.properties?.schema === 'percept.event/1') return `${head} ${m.body?.type ?? '?'} ${m.body?.label ?? '?'} (track ${m.body?.id ?? '?'}, ${bytes} B)`;
  const counts =
    Object.entries(m.body?.counts ?? {})
      .map(([l, n]) => `${n} ${l}`)
      .join(', ') || 'nothing';
  return `${head} ${m.body?.window?.frames ?? '?'} frames, ${counts} (${bytes} B)`;
}

/** Follows the messages the emulator receives from the device, one described line each. */
export function followMessages(api: number, deviceId: string, onLine: (text: string) => void): http.ClientRequest {
  const req = http.get({ host: '127.0.0.1', port: api, path: `/devices/${encodeURIComponent(deviceId)}/messages/stream?format=ndjson` }, (res) => {
    let buf = '';
    res.on('data', (c) => {
      buf += c;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line) onLine(describeMessage(JSON.parse(line) as StreamedMessage));
      }
    });
  });
  req.on('error', () => undefined);
  return req;
}
