// The program the camera-source tests run in a child process with the fake camera preloaded:
// it drives a real V4l2Source (through createSource, as the pipeline does) in one scenario
// and prints one JSON line with the frames, counters, log lines and control values it saw.
import { Writable } from 'node:stream';
import { createSource } from '../../src/capture/index.js';
import type { FrameSource } from '../../src/capture/source.js';
import { createLogger } from '../../src/log.js';
import type { SourceConfig } from '../../src/config/schema.js';

export interface SourceFrame {
  seq: number;
  format: string;
  width: number;
  height: number;
  size: number;
}

export interface SourceRun {
  backend: string | undefined;
  backendReason: string | undefined;
  openError: { code: string; message: string } | null;
  frames: SourceFrame[];
  stats: FrameSource['stats'] | null;
  controls: Record<string, number>[];
  controlError: { code: string; message: string } | null;
  logs: Array<Record<string, unknown>>;
}

interface Options {
  cfg: Partial<SourceConfig>;
  count?: number;
  /** Milliseconds to wait before taking each frame (a slow pipeline). */
  holdMs?: number;
  /** Controls to set live after the frames, then read back. */
  set?: Array<Record<string, number>>;
  backoffMs?: [number, number];
  stallMs?: number;
}

const [scenario, json] = process.argv.slice(2);
const opts = JSON.parse(json ?? '{}') as Options;
const logs: Array<Record<string, unknown>> = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, cb) {
    for (const l of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(l) as Record<string, unknown>);
    cb();
  },
});
const logger = createLogger({ level: 'info', pretty: false, destination: sink });
const cfg: SourceConfig = { id: 'cam', kind: 'webcam', uri: '/dev/video0', loop: false, ...opts.cfg };
const source = createSource(cfg, {
  logger,
  v4l2: { backoffMs: opts.backoffMs ?? [100, 1000], stallMs: opts.stallMs ?? 3000 },
  ffmpeg: { backoffMs: opts.backoffMs ?? [100, 1000] },
});
const out: SourceRun = {
  backend: source.backend,
  backendReason: source.backendReason,
  openError: null,
  frames: [],
  stats: null,
  controls: [],
  controlError: null,
  logs,
};

const asError = (e: unknown) => ({ code: (e as { code: string }).code, message: (e as Error).message });

try {
  await source.open();
  for (let i = 0; i < (opts.count ?? 0); i++) {
    if (opts.holdMs) await new Promise((r) => setTimeout(r, opts.holdMs));
    const f = await source.next();
    if (!f) break;
    out.frames.push({ seq: f.seq, format: f.format, width: f.width, height: f.height, size: f.data.length });
  }
  if (scenario === 'controls') {
    out.controls.push(source.readControls?.() ?? {});
    try {
      for (const c of opts.set ?? []) {
        source.setControls!(c);
        out.controls.push(source.readControls!());
      }
    } catch (e) {
      out.controlError = asError(e);
      out.controls.push(source.readControls!());
    }
  }
  out.stats = { ...source.stats };
} catch (e) {
  out.openError = asError(e);
}
await source.close();
await new Promise((r) => setImmediate(r));
process.stdout.write(JSON.stringify(out) + '\n');
