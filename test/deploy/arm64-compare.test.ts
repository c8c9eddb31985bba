// The arm64 check's comparison (scripts/check-arm64-compare.mjs) on a real x64 run of the
// shared photos: a run matches itself, and the comparison fails both ways: an x64 frame the
// other run lacks, an extra or repeated frame in the other run, a box that moved.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { ROOT, SHARED_IMAGES, YOLOX_NANO, tempDir } from '../helpers/paths.js';

const FRAMES = 9;
const dir = tempDir('percept-compare-');

function compare(ref: string[], got: string[]): { code: number | null; out: string } {
  const a = path.join(dir, 'x64.jsonl');
  const b = path.join(dir, 'arm64.jsonl');
  fs.writeFileSync(a, ref.join('\n') + '\n');
  fs.writeFileSync(b, got.join('\n') + '\n');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'check-arm64-compare.mjs'), a, b, String(FRAMES)], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout.trim() };
}

test('check-arm64-compare matches a run with itself and flags missing, extra, repeated and moved frames', { timeout: 120_000 }, async () => {
  const run = await runCli(
    [
      'run',
      '--source',
      SHARED_IMAGES,
      '--model',
      'yolox-nano',
      '--model-path',
      YOLOX_NANO,
      '--frames',
      String(FRAMES),
      '--output',
      'jsonl',
      '--no-preview',
      '--workers',
      '1',
    ],
    { timeoutMs: 110_000 },
  );
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split('\n').filter((l) => l.startsWith('{'));
  assert.equal(lines.length, FRAMES);
  type Row = { source: string; detections: Array<{ boxNorm: number[] }> };
  const rows = lines.map((l) => JSON.parse(l) as Row);
  const withBox = rows.findIndex((r) => r.detections.length > 0);
  assert.ok(withBox >= 0, 'some photo has a detection');

  assert.deepEqual(compare(lines, lines), { code: 0, out: `${FRAMES}/${FRAMES} frames match x64` });

  const missing = compare(lines, lines.slice(1));
  assert.equal(missing.code, 1);
  assert.match(missing.out, new RegExp(`${path.basename(rows[0]!.source)}: no arm64 result`));

  // An arm64 frame the x64 run does not have: the old comparison counted only x64's frames.
  const extra = JSON.stringify({ ...rows[0]!, source: path.join(path.dirname(rows[0]!.source), 'not-in-x64.jpg') });
  const more = compare(lines, [...lines, extra]);
  assert.equal(more.code, 1, more.out);
  assert.match(more.out, /not-in-x64\.jpg: an arm64 result with no x64 counterpart/);
  assert.match(more.out, /the arm64 run gave 10 frames, expected 9/);

  const twice = compare(lines, [...lines, lines[withBox]!]);
  assert.equal(twice.code, 1, twice.out);
  assert.match(twice.out, /more than one arm64 result/);

  const moved = rows.map((r, i) =>
    JSON.stringify(i === withBox ? { ...r, detections: r.detections.map((d, j) => (j === 0 ? { ...d, boxNorm: d.boxNorm.map((v) => v * 0.9) } : d)) } : r),
  );
  const shifted = compare(lines, moved);
  assert.equal(shifted.code, 1, shifted.out);
  assert.match(shifted.out, /box IoU 0\.\d+ < 0\.98/);
});
