// A live source faster than the pool drops to the newest frame (counted) and results keep
// capture order; SIGTERM stops the run cleanly; several sources run side by side.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { runCli, jsonLines } from '../helpers/cli.js';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, ROOT, YOLOX_NANO, image, tempDir } from '../helpers/paths.js';

test('a live source faster than the pool drops to the newest frame', async () => {
  // 1080p at 60 fps into one single-threaded worker: decoding and letterboxing a 1080p frame
  // plus YOLOX-Nano takes well over the 16.7 ms between frames.
  const dir = tempDir();
  const cfg = path.join(dir, 'live.json');
  fs.writeFileSync(cfg, JSON.stringify({ sources: [{ id: 'cam', kind: 'synthetic', fps: 60, width: 1920, height: 1080 }], workers: 1, threads: 1, model: { name: 'yolox-nano', path: YOLOX_NANO } }));
  const r = await runCli(['run', '--config', cfg, '--frames', '25', '--output', 'jsonl']);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  assert.equal(lines.length, 25);
  const seqs = lines.map((l) => l.seq as number);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], 'capture order');
  const gaps = seqs[seqs.length - 1] - seqs[0] + 1 - seqs.length;
  assert.ok(gaps > 0, `frames were skipped while the worker was busy (seqs ${seqs.join(',')})`);
  assert.equal(lines[0].width, 1920);
  const stopped = jsonLines(r.stderr).find((l) => l.msg === 'stopped');
  assert.ok(stopped, 'the run logs its final counts');
});

test('SIGTERM stops a live run cleanly with exit code 0', async () => {
  const child = spawn(process.execPath, [CLI, 'run', '--source', 'demo', '--output', 'jsonl'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const deadline = Date.now() + 30_000;
  while (jsonLines(out).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(jsonLines(out).length >= 3, `results before the signal; stderr: ${err}`);
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, err);
  assert.match(err, /"msg":"stopped"/);
});

test('two sources with their own ids run side by side, each in order', async () => {
  const r = await runCli(['run', '--source', `a=${image('dog.jpg')}`, '--source', `b=${image('astronaut.png')}`, '--loop', '--model', 'yolox-nano', '--model-path', YOLOX_NANO, '--frames', '10', '--output', 'jsonl']);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  assert.equal(lines.length, 10);
  for (const id of ['a', 'b']) {
    const mine = lines.filter((l) => l.sourceId === id);
    assert.ok(mine.length >= 2, `source ${id} produced results`);
    const seqs = mine.map((l) => l.seq as number);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y));
  }
});

test('an fps on a file source paces it', async () => {
  const t0 = Date.now();
  const r = await runCli(['run', '--source', image('dog.jpg'), '--loop', '--fps', '10', '--model', 'yolox-nano', '--model-path', YOLOX_NANO, '--frames', '8', '--output', 'jsonl']);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  const times = lines.map((l) => Date.parse(String(l.capturedAt)));
  const span = times[times.length - 1] - times[0];
  assert.ok(span >= 650, `8 frames at 10 fps span >= 0.7 s, got ${span} ms`);
  assert.ok(Date.now() - t0 < 30_000);
});
