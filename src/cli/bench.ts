// `percept bench` (npm run bench): measures in one run and prints numbers and ratios;
// `--json` ends the output with one JSON line; `--section` runs one section.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../models/manifest.js';
import { numFlag, printHelp } from './args.js';

import { SECTION_TABLE, type Figures, type Inputs } from '../bench/sections.js';

const SECTIONS = SECTION_TABLE.map((x) => x.name);

export const BENCH_HELP = `Usage: percept bench [--json] [--section ${SECTIONS.join('|')}] [--seconds N] [--model-path file.onnx] [--images folder]

Measures, in one run on this machine:
  pipeline   YOLOX-Nano: raw session.run (1 and 2 threads), the naive main-thread loop,
             the worker pool, the 2-core bound, and p50/p99 latency at a 30 fps source.
  preview    inference fps with no preview client and with an HTTP client on the frame stream.
  attest     TPM signatures/s (swtpm), verifier messages/s on a 30 msg/s stream with a
             signature a second, and the agent's CPU for attestation at 30 msg/s.
  outbox     durable enqueues/s (~2 KB bodies, synchronous=FULL, alone and group-committed)
             and deliveries/s to the emulator in its own process, with CPU per message.
  capture    CPU per frame from camera to the inference hand-off, native V4L2 against
             ffmpeg, 1280x720 MJPEG at 30 fps from the test suite's fake camera.
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
  if (values.help) return printHelp(BENCH_HELP);
  const sections = values.section?.length ? values.section : [...SECTIONS];
  for (const s of sections) {
    if (!SECTIONS.includes(s)) {
      process.stderr.write(`percept bench: unknown section '${s}'; sections: ${SECTIONS.join(', ')}\n`);
      return 2;
    }
  }
  const seconds = numFlag('seconds', values.seconds, 0.5, 60) ?? 4;
  const shared = path.resolve(projectRoot(), '..', 'shared');
  const say = (line: string) => process.stdout.write(line + '\n');
  const result: Figures = {};
  const inputs: Inputs = {
    modelPath: values['model-path'] ?? path.join(shared, 'models', 'yolox_nano.onnx'),
    imagesDir: values.images ?? path.join(shared, 'testdata', 'images'),
  };
  const t0 = Date.now();
  for (const section of SECTION_TABLE) {
    if (!sections.includes(section.name)) continue;
    say(`== ${section.title} ==`);
    Object.assign(result, await section.run(say, seconds, inputs));
  }
  result.bench_seconds = (Date.now() - t0) / 1000;
  if (values.json) {
    const rounded = Object.fromEntries(Object.entries(result).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1000) / 1000 : v]));
    process.stdout.write(JSON.stringify(rounded) + '\n');
  }
  return 0;
}
