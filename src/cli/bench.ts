// `percept bench` (npm run bench): measures in one run and prints numbers and ratios;
// `--json` ends the output with one JSON line; `--section` runs one section.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchFrames } from '../bench/frames.js';
import { benchPipeline } from '../bench/pipeline.js';
import { loadModel } from '../pipeline/model.js';
import { projectRoot } from '../models/manifest.js';
import { numFlag } from './args.js';

const SECTIONS = ['pipeline', 'preview', 'attest', 'outbox'] as const;

export const BENCH_HELP = `Usage: percept bench [--json] [--section ${SECTIONS.join('|')}] [--seconds N] [--model-path file.onnx] [--images folder]

Measures, in one run on this machine:
  pipeline   YOLOX-Nano: raw session.run (1 and 2 threads), the naive main-thread loop,
             the worker pool, the 2-core bound, and p50/p99 latency at a 30 fps source.
  preview    inference fps with no preview client and with an HTTP client on the frame stream.
  attest     TPM signatures/s (swtpm), verifier messages/s on a 30 msg/s stream with a
             signature a second, and the agent's CPU for attestation at 30 msg/s.
  outbox     durable enqueues/s (~2 KB bodies, synchronous=FULL, alone and group-committed)
             and deliveries/s to the emulator in its own process, with CPU per message.
Frames: the shared test photos re-encoded as JPEG plus a 1280x720 ffmpeg test stream.
  --json             end with one JSON line of all figures
  --section S        run only section S (may repeat)
  --seconds N        time per measurement (default 4)
  --model-path FILE  the YOLOX-Nano ONNX file (default ../shared/models/yolox_nano.onnx)
  --images DIR       the photos (default ../shared/testdata/images)`;

export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean' },
      section: { type: 'string', multiple: true },
      seconds: { type: 'string' },
      'model-path': { type: 'string' },
      images: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(BENCH_HELP + '\n');
    return 0;
  }
  const sections = values.section?.length ? values.section : [...SECTIONS];
  for (const s of sections) {
    if (!(SECTIONS as readonly string[]).includes(s)) {
      process.stderr.write(`percept bench: unknown section '${s}'; sections: ${SECTIONS.join(', ')}\n`);
      return 2;
    }
  }
  const seconds = numFlag('seconds', values.seconds, 0.5, 60) ?? 4;
  const shared = path.resolve(projectRoot(), '..', 'shared');
  const say = (line: string) => process.stdout.write(line + '\n');
  const result: Record<string, number | string | null> = {};
  const inputs = { modelPath: values['model-path'] ?? path.join(shared, 'models', 'yolox_nano.onnx'), imagesDir: values.images ?? path.join(shared, 'testdata', 'images') };
  const t0 = Date.now();
  if (sections.includes('pipeline')) {
    say('== pipeline (YOLOX-Nano) ==');
    const model = await loadModel({ name: 'yolox-nano', path: inputs.modelPath });
    const frames = await benchFrames(inputs.imagesDir);
    say(`frames: ${frames.length} (${frames.filter((f) => !f.name.startsWith('testsrc')).length} photos as JPEG, ${frames.filter((f) => f.name.startsWith('testsrc')).length} 1280x720 test-stream frames)`);
    const r = await benchPipeline(model, frames, say, seconds);
    Object.assign(result, r);
  }
  if (sections.includes('preview')) {
    say('== preview (YOLOX-Nano, 2 workers, the benchmark frames looped as JPEG files) ==');
    const { benchPreview } = await import('../web/bench.js');
    Object.assign(result, await benchPreview(say, seconds, inputs));
  }
  if (sections.includes('attest')) {
    say('== attest (chain, checkpoint signatures, verifier) ==');
    const { benchAttest } = await import('../bench/attest.js');
    const a = await benchAttest(say, seconds);
    Object.assign(result, a);
  }
  if (sections.includes('outbox')) {
    say('== outbox (durable enqueue, delivery to the emulator) ==');
    const { benchOutbox } = await import('../bench/outbox.js');
    Object.assign(result, await benchOutbox(say, seconds));
  }
  result.bench_seconds = (Date.now() - t0) / 1000;
  if (values.json) {
    const rounded = Object.fromEntries(Object.entries(result).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1000) / 1000 : v]));
    process.stdout.write(JSON.stringify(rounded) + '\n');
  }
  return 0;
}
