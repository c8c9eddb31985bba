// Track identity on real video (clips made with ffmpeg, real YOLOX-Nano): an object that leaves
// the frame and comes back within the timeout keeps its id (and a shorter timeout shows the test
// can fail), and two objects crossing paths keep theirs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { runCli, jsonLines } from '../helpers/cli.js';
import { tempDir, YOLOX_NANO } from '../helpers/paths.js';
import { clip, clipsUnavailable, CROSSING_ARGS, RETURN_ARGS } from '../helpers/clips.js';

const yolox = ['--model', 'yolox-nano', '--model-path', YOLOX_NANO, '--no-preview'];

async function run(source: string, output: 'events' | 'jsonl', extra: string[] = []) {
  const r = await runCli(['run', '--source', source, ...yolox, '--output', output, '--state-dir', tempDir(), ...extra], { timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  return jsonLines(r.stdout);
}

test('an object that leaves and comes back within the timeout keeps its id', { skip: clipsUnavailable() }, async () => {
  const file = await clip(RETURN_ARGS);
  const moto = (await run(file, 'events')).filter((e) => e.label === 'motorcycle');
  const types = moto.map((e) => `${String(e.type)}:${String(e.id)}`);
  assert.equal(moto.filter((e) => e.type === 'new').length, 1, types.join(' '));
  assert.equal(moto.filter((e) => e.type === 'end').length, 1, types.join(' '));
  assert.equal(new Set(moto.map((e) => e.id)).size, 1, types.join(' '));
  // Away for about 1.5 s: with a 1 s timeout the track ends, and the return is a new one.
  const short = (await run(file, 'events', ['--track-timeout', '1'])).filter((e) => e.label === 'motorcycle');
  assert.equal(short.filter((e) => e.type === 'new').length, 2, short.map((e) => `${String(e.type)}:${String(e.id)}`).join(' '));
});

test('two objects crossing paths keep their ids', { skip: clipsUnavailable() }, async () => {
  const file = await clip(CROSSING_ARGS);
  const frames = await run(file, 'jsonl');
  // Which object a track shows: the upper one rides right, the lower one left (box centre y).
  const seen = new Map<string, string[]>();
  for (const f of frames) {
    const tracks = (f.tracks ?? []) as Array<{ id: string; label: string; box: number[]; state: string; seen: boolean }>;
    for (const t of tracks) {
      if (t.label !== 'motorcycle' || t.state === 'tentative' || !t.seen) continue;
      const y = ((t.box[1] ?? 0) + (t.box[3] ?? 0)) / 2;
      const who = y < 0.48 ? 'upper' : 'lower';
      const list = seen.get(t.id) ?? [];
      if (list[list.length - 1] !== who) list.push(who);
      seen.set(t.id, list);
    }
  }
  const ids = [...seen.keys()];
  assert.equal(ids.length, 2, JSON.stringify([...seen]));
  // At most one switch for the one crossing.
  const switches = [...seen.values()].reduce((n, l) => n + l.length - 1, 0);
  assert.ok(switches <= 1, JSON.stringify([...seen]));
  assert.deepEqual(new Set([...seen.values()].map((l) => l[0])), new Set(['upper', 'lower']));
});
