// `percept bench --section preview`: what an open preview costs the pipeline. A real
// YOLOX-Nano pipeline (2 workers) runs the benchmark's frames (JPEG, as cameras deliver
// them) looped as a lossless source, first with no client, then with a plain HTTP client
// pulling the MJPEG stream; phases alternate.

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { benchFrames } from '../bench/frames.js';
import { performance } from 'node:perf_hooks';
import { Pipeline } from '../pipeline/pipeline.js';
import { parseConfig } from '../config/load.js';
import { silentLogger } from '../log.js';
import type { AgentStatus } from '../status.js';
import { startPreview } from './index.js';

export interface PreviewBench {
  preview_fps_no_client: number;
  preview_fps_with_client: number;
  preview_overhead_pct: number;
}

interface Client {
  req: http.ClientRequest;
  bytes: number;
  parts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `inputs`: the YOLOX-Nano file and the photo folder, as the pipeline section takes them. */
export async function benchPreview(say: (line: string) => void, seconds: number, inputs: { modelPath: string; imagesDir: string }): Promise<PreviewBench> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'percept-bench-frames-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const frames = await benchFrames(inputs.imagesDir);
  frames.forEach((f, i) => fs.writeFileSync(path.join(dir, `${String(i).padStart(4, '0')}.jpg`), f.data));
  const cfg = parseConfig({
    sources: [{ id: 'images', kind: 'folder', uri: dir, loop: true }],
    model: { name: 'yolox-nano', path: inputs.modelPath },
    workers: 2,
    threads: 1,
    output: 'none',
  });
  const logger = silentLogger();
  const pipeline = new Pipeline(cfg, { logger });
  await pipeline.start();
  const started = new Date().toISOString();
  const status = (): AgentStatus => ({
    version: 'bench',
    startedAt: started,
    uptimeS: 0,
    pipeline: pipeline.status(),
    hub: null,
    telemetry: null,
    config: { version: null, error: null },
  });
  const preview = await startPreview({ host: '127.0.0.1', port: 0, maxFps: 10, logger, pipeline, status });
  let results = 0;
  pipeline.on('result', () => results++);
  // Process CPU time covers the worker threads and sharp's thread pool too: per frame, it
  // shows the preview's cost even when other load on the machine moves the frame rate.
  const rate = async (ms: number) => {
    const n0 = results;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await sleep(ms);
    const c = process.cpuUsage(c0);
    return { n: results - n0, ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
  };

  const connect = () =>
    new Promise<Client>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: preview.port, path: '/stream?source=images' });
      const c: Client = { req, bytes: 0, parts: 0 };
      req.on('response', (res) => {
        res.on('data', (chunk: Buffer) => {
          c.bytes += chunk.length;
          // Informational only: a part header split across chunks is missed.
          for (let i = chunk.indexOf('image/jpeg'); i >= 0; i = chunk.indexOf('image/jpeg', i + 1)) c.parts++;
        });
        resolve(c);
      });
      req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    });

  const totals = { off: { n: 0, ms: 0, cpuMs: 0 }, on: { n: 0, ms: 0, cpuMs: 0 } };
  const received = { bytes: 0, parts: 0, ms: 0 };
  let open: Client | null = null;
  try {
    await rate(1000); // warm-up: sessions, caches, JIT
    // Alternate the two conditions in short phases so drift (thermal, other load on the
    // machine) falls on both alike.
    const rounds = Math.max(2, Math.round(seconds));
    const phaseMs = (seconds * 1000) / rounds;
    for (let round = 0; round < rounds; round++) {
      const off = await rate(phaseMs);
      totals.off.n += off.n;
      totals.off.ms += off.ms;
      totals.off.cpuMs += off.cpuMs;
      const c: Client = await connect();
      open = c;
      await sleep(200); // the first picture and the frame tap settle
      const on = await rate(phaseMs);
      totals.on.n += on.n;
      totals.on.ms += on.ms;
      totals.on.cpuMs += on.cpuMs;
      received.bytes += c.bytes;
      received.parts += c.parts;
      received.ms += on.ms + 200;
      c.req.destroy();
      open = null;
      await sleep(200);
    }
  } finally {
    open?.req.destroy();
    await preview.close();
    await pipeline.stop();
  }
  const fpsOff = (totals.off.n * 1000) / totals.off.ms;
  const fpsOn = (totals.on.n * 1000) / totals.on.ms;
  const overhead = fpsOff > 0 ? ((fpsOff - fpsOn) / fpsOff) * 100 : 0;
  say(`inference, no preview client: ${fpsOff.toFixed(1)} fps`);
  say(
    `inference, one MJPEG client:  ${fpsOn.toFixed(1)} fps (client got ${((received.parts * 1000) / received.ms).toFixed(1)} pictures/s, ${((received.bytes / 1024) * (1000 / received.ms)).toFixed(0)} KiB/s)`,
  );
  const cpuOff = totals.off.cpuMs / Math.max(1, totals.off.n);
  const cpuOn = totals.on.cpuMs / Math.max(1, totals.on.n);
  say(`CPU per inferred frame: ${cpuOff.toFixed(2)} ms without, ${cpuOn.toFixed(2)} ms with a client (+${(((cpuOn - cpuOff) / cpuOff) * 100).toFixed(1)}%)`);
  say(`preview overhead: ${overhead.toFixed(1)}% of inference fps (target <= 5%)`);
  return { preview_fps_no_client: fpsOff, preview_fps_with_client: fpsOn, preview_overhead_pct: overhead };
}
