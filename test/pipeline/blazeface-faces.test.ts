// The default model (BlazeFace back, shipped by an npm package) finds one face in each of the
// two portraits, where an independent detector found them, and none in dog.jpg.
import test from 'node:test';
import assert from 'node:assert/strict';
import { runCli, jsonLines } from '../helpers/cli.js';
import { image } from '../helpers/paths.js';
import { iou } from '../../src/models/nms.js';
import type { Box } from '../../src/types.js';
import { at } from '../helpers/at.js';

const FACES: Record<string, Box | null> = {
  'astronaut.png': [180, 62, 268, 173],
  'camera.png': [198, 109, 260, 195],
  'dog.jpg': null,
};

test('blazeface-back with no --model-path finds the faces and nothing in dog.jpg', async () => {
  const args = ['run', '--output', 'jsonl', '--frames', '3'];
  for (const name of Object.keys(FACES)) args.push('--source', `${name.replace(/\W/g, '')}=${image(name)}`);
  const r = await runCli(args);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  assert.equal(lines.length, 3);
  for (const [name, face] of Object.entries(FACES)) {
    const line = lines.find((l) => String(l.source).endsWith(name));
    assert.ok(line, `a result for ${name}`);
    assert.equal(line.model, 'blazeface-back');
    const dets = line.detections as Array<{ label: string; box: Box }>;
    if (face === null) {
      assert.equal(dets.length, 0, `no face in ${name}`);
      continue;
    }
    assert.equal(dets.length, 1, `exactly one face in ${name}: ${JSON.stringify(dets)}`);
    assert.equal(at(dets, 0).label, 'face');
    const o = iou(at(dets, 0).box, face);
    assert.ok(o >= 0.4, `${name}: IoU ${o.toFixed(3)} with the independent face box`);
  }
});
