// The benchmark's sections, in the order a full run takes them: each measures what it names
// within one run, loads only its own modules, and returns its figures for the JSON line.

import { benchFrames } from './frames.js';
import { benchPipeline } from './pipeline.js';
import { loadModel } from '../pipeline/model.js';

export type Say = (line: string) => void;
export interface Inputs {
  modelPath: string;
  imagesDir: string;
}
export type Figures = Record<string, number | string | null>;

/**
 * The bench's sections, in the order a full run takes them. A section measures what it
 * names within one run and returns its figures; each loads only its own modules.
 */
export const SECTION_TABLE: ReadonlyArray<{ name: string; title: string; run: (say: Say, seconds: number, inputs: Inputs) => Promise<object> }> = [
  {
    name: 'pipeline',
    title: 'pipeline (YOLOX-Nano)',
    async run(say, seconds, inputs) {
      const model = await loadModel({ name: 'yolox-nano', path: inputs.modelPath });
      const frames = await benchFrames(inputs.imagesDir);
      say(
        `frames: ${frames.length} (${frames.filter((f) => !f.name.startsWith('testsrc')).length} photos as JPEG, ${frames.filter((f) => f.name.startsWith('testsrc')).length} 1280x720 test-stream frames)`,
      );
      return benchPipeline(model, frames, say, seconds);
    },
  },
  {
    name: 'preview',
    title: 'preview (YOLOX-Nano, 2 workers, the benchmark frames looped as JPEG files)',
    run: async (say, seconds, inputs) => (await import('../web/bench.js')).benchPreview(say, seconds, inputs),
  },
  {
    name: 'attest',
    title: 'attest (chain, checkpoint signatures, verifier)',
    run: async (say, seconds) => (await import('../bench/attest.js')).benchAttest(say, seconds),
  },
  {
    name: 'outbox',
    title: 'outbox (durable enqueue, delivery to the emulator)',
    run: async (say, seconds) => (await import('../bench/outbox.js')).benchOutbox(say, seconds),
  },
  {
    name: 'motion',
    title: 'motion (a still photo as a live 15 fps source, YOLOX-Nano: motion gate off against on)',
    run: async (say, seconds, inputs) => (await import('../bench/motion.js')).benchMotion(say, seconds, inputs),
  },
  {
    name: 'capture',
    title: 'capture (1280x720 MJPEG at 30 fps from the fake camera: native V4L2 against ffmpeg, CPU per frame)',
    run: async (say, seconds, inputs) => (await import('../bench/capture.js')).benchCapture(say, seconds, inputs),
  },
];
