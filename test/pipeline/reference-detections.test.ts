// YOLOX-Nano through the whole pipeline (CLI, folder source, worker pool) reproduces the
// reference detections of ../shared/models/README.md: same labels, IoU >= 0.9 per box.
import test from 'node:test';
import assert from 'node:assert/strict';
import { runCli, jsonLines } from '../helpers/cli.js';
import { SHARED_IMAGES, YOLOX_NANO } from '../helpers/paths.js';
import { iou } from '../../src/models/nms.js';
import type { Box } from '../../src/types.js';

const REFERENCE: Record<string, Array<[string, number, Box | null]>> = {
  'dog.jpg': [
    ['dog', 0.85, [133, 205, 323, 543]],
    ['car', 0.82, [467, 78, 693, 171]],
    ['bicycle', 0.82, [61, 133, 572, 428]],
  ],
  'astronaut.png': [['person', 0.92, [12, 20, 369, 507]]],
  'camera.png': [['person', 0.93, [5, 64, 300, 502]]],
  'coffee.png': [
    ['cup', 0.9, [162, 16, 421, 295]],
    ['dining table', 0.74, [0, 0, 599, 398]],
  ],
  'motorcycle_left.png': [
    ['motorcycle', 0.89, [109, 66, 711, 446]],
    ['person', 0.4, [348, 8, 405, 87]],
  ],
  'chelsea.png': [['cat', 0.65, null]],
};

test('YOLOX-Nano through the pipeline matches the reference detections', async () => {
  const r = await runCli([
    'run',
    '--source',
    SHARED_IMAGES,
    '--model',
    'yolox-nano',
    '--model-path',
    YOLOX_NANO,
    '--frames',
    '9',
    '--output',
    'jsonl',
    '--workers',
    '2',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  assert.equal(lines.length, 9, 'one line per image in the folder');
  const seqs = lines.map((l) => l.seq as number);
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
    'results come out in capture order',
  );
  const byName = new Map(lines.map((l) => [String(l.source).split('/').pop()!, l]));
  for (const [name, refs] of Object.entries(REFERENCE)) {
    const line = byName.get(name);
    assert.ok(line, `a result for ${name}`);
    const dets = line.detections as Array<{ label: string; confidence: number; box: Box; boxNorm: Box }>;
    assert.deepEqual(dets.map((d) => d.label).sort(), refs.map((x) => x[0]).sort(), `labels of ${name}`);
    for (const [label, conf, box] of refs) {
      const d = dets.find((x) => x.label === label)!;
      assert.ok(Math.abs(d.confidence - conf) < 0.02, `${name} ${label} confidence ${d.confidence} vs ${conf}`);
      const w = line.width as number;
      const h = line.height as number;
      const ref: Box = box ?? [0, 0, w, h];
      const overlap = iou(d.box, ref);
      assert.ok(overlap >= 0.9, `${name} ${label}: IoU ${overlap.toFixed(3)} with the reference box`);
      const back: Box = [d.boxNorm[0] * w, d.boxNorm[1] * h, d.boxNorm[2] * w, d.boxNorm[3] * h];
      assert.ok(iou(back, d.box) > 0.95, 'normalised box agrees with the pixel box');
    }
  }
});
