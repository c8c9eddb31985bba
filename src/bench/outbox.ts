// The outbox benchmark: durable enqueues per second (~2 KB telemetry bodies, committed with
// synchronous=FULL; concurrent enqueues share a commit), and deliveries per second through the
// real SDK to the emulator running as a separate process, each with this process's CPU cost.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Outbox } from '../hub/outbox.js';
import { ChainWriter } from '../telemetry/chain-writer.js';
import { nth } from './frames.js';
import { HubLink } from '../hub/link.js';
import { Sender } from '../hub/sender.js';
import { silentLogger } from '../log.js';
import type { OutgoingMessage } from '../telemetry/encode.js';

export interface OutboxBench {
  outbox_enqueue_per_s: number;
  outbox_enqueue_serial_per_s: number;
  delivered_per_s: number;
  cpu_us_per_enqueue: number;
  cpu_us_per_delivered: number;
}

type Say = (line: string) => void;

function telemetry(i: number): OutgoingMessage {
  const frames = Array.from({ length: 8 }, (_, k) => ({
    seq: i * 8 + k,
    capturedAt: new Date().toISOString(),
    width: 1280,
    height: 720,
    detections: [
      { label: 'person', confidence: 0.9132, box: [412.5, 96.25, 603.75, 688.5], boxNorm: [0.3223, 0.1337, 0.4717, 0.9563] },
      { label: 'dog', confidence: 0.8497, box: [133.2, 205.4, 323, 542.6], boxNorm: [0.1734, 0.3566, 0.4206, 0.942] },
    ],
  }));
  const body = Buffer.from(
    JSON.stringify({
      schema: 'percept.detections/1',
      deviceId: 'bench',
      source: { id: 'cam0', kind: 'rtsp' },
      model: { name: 'yolox-nano', version: '1', sha256: 'e8af0749'.repeat(8) },
      counts: { person: 8, dog: 8 },
      frames,
    }),
  );
  return {
    body,
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    properties: { schema: 'percept.detections/1', eventType: 'detections', source: 'cam0' },
  };
}

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function enqueueRate(file: string, ms: number, concurrency: number): Promise<{ perS: number; cpuUs: number; n: number }> {
  const o = new Outbox(file, { reserveBytes: 0 });
  const w = new ChainWriter(o);
  const msgs = Array.from({ length: 64 }, (_, i) => telemetry(i));
  const inflight = new Set<Promise<unknown>>();
  let n = 0;
  const c0 = cpuUs();
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    const p = w.write([nth(msgs, n)]).then(() => void n++);
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= concurrency) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const elapsed = performance.now() - t0;
  const cpu = cpuUs() - c0;
  o.close();
  return { perS: (n * 1000) / elapsed, cpuUs: cpu / n, n };
}

/** `percept hub` as a child process on free ports; resolves with its device connection string. */
async function startEmulator(state: string): Promise<{ child: ChildProcess; connectionString: string; ca: string }> {
  const cli = fileURLToPath(new URL('../cli.js', import.meta.url));
  const child = spawn(
    process.execPath,
    [cli, 'hub', '--state', state, '--mqtt-port', '0', '--api-port', '0', '--ws-port', 'off', '--device', 'bench', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const connectionString = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /HostName=[^;\s]+;DeviceId=bench;\S+/.exec(out);
      if (m) resolve(m[0]);
    });
    child.once('exit', (code) => reject(new Error(`the emulator exited (${code})`)));
  });
  return { child, connectionString, ca: fs.readFileSync(path.join(state, 'ca.pem'), 'utf8') };
}

async function deliveryRate(file: string, count: number): Promise<{ perS: number; cpuUs: number }> {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'percept-bench-hub-'));
  const emu = await startEmulator(state);
  const o = new Outbox(file, { reserveBytes: 0 });
  try {
    const msgs = Array.from({ length: 64 }, (_, i) => telemetry(i));
    const w = new ChainWriter(o);
    await Promise.all(Array.from({ length: count }, (_, i) => w.write([nth(msgs, i)])));
    const log = silentLogger();
    const link = new HubLink({ connectionString: emu.connectionString, ca: emu.ca, transport: 'mqtt', output: 'detections', logger: log });
    await link.open();
    const sender = new Sender(o, link, log);
    const c0 = cpuUs();
    const t0 = performance.now();
    sender.start();
    const drained = await sender.drain(120_000);
    const elapsed = performance.now() - t0;
    const cpu = cpuUs() - c0;
    const delivered = sender.stats().acknowledged;
    await sender.stop();
    await link.close();
    if (!drained) throw new Error(`delivery did not finish: ${o.stats().depth} left`);
    return { perS: (delivered * 1000) / elapsed, cpuUs: cpu / delivered };
  } finally {
    o.close();
    emu.child.kill('SIGTERM');
    fs.rmSync(state, { recursive: true, force: true });
  }
}

export async function benchOutbox(say: Say, seconds = 4): Promise<OutboxBench> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'percept-bench-outbox-'));
  try {
    const body = telemetry(0).body.length;
    const serial = await enqueueRate(path.join(dir, 'serial.db'), (seconds * 1000) / 2, 1);
    say(`durable enqueue, one at a time (${body} B bodies, synchronous=FULL): ${serial.perS.toFixed(0)} msg/s, ${serial.cpuUs.toFixed(0)} µs CPU each`);
    const grouped = await enqueueRate(path.join(dir, 'group.db'), seconds * 1000, 64);
    say(`durable enqueue, 64 concurrent (group commit): ${grouped.perS.toFixed(0)} msg/s, ${grouped.cpuUs.toFixed(0)} µs CPU each`);
    const count = Math.max(2000, Math.round(seconds * 1500));
    const d = await deliveryRate(path.join(dir, 'deliver.db'), count);
    say(
      `delivered to the emulator (separate process, TLS, QoS 1, window 16): ${d.perS.toFixed(0)} msg/s, ${d.cpuUs.toFixed(0)} µs CPU each in the agent (${count} messages)`,
    );
    return {
      outbox_enqueue_per_s: grouped.perS,
      outbox_enqueue_serial_per_s: serial.perS,
      delivered_per_s: d.perS,
      cpu_us_per_enqueue: grouped.cpuUs,
      cpu_us_per_delivered: d.cpuUs,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
