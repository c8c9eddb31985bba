// The events issue's acceptance: on its 10 s clip (a motorcycle sliding over coffee.png, lost by
// YOLOX-Nano for about 1.5 s where it passes the cup), `percept run --output events` prints
// exactly one `new` and one `end` for the motorcycle, with the same id: the tracker bridges the
// gap, and the end of the file ends the track.
import test from 'node:test';
import assert from 'node:assert/strict';
import { runCli, jsonLines } from '../helpers/cli.js';
import { tempDir, YOLOX_NANO } from '../helpers/paths.js';
import { clipsUnavailable, doneWhenClip } from '../helpers/clips.js';

test('the done-when clip gives one new and one end for the motorcycle, with the same id', { skip: clipsUnavailable() }, async () => {
  const clip = await doneWhenClip();
  const r = await runCli(
    ['run', '--source', clip, '--model', 'yolox-nano', '--model-path', YOLOX_NANO, '--output', 'events', '--no-preview', '--state-dir', tempDir()],
    { timeoutMs: 300_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const events = jsonLines(r.stdout);
  const moto = events.filter((e) => e.label === 'motorcycle');
  const news = moto.filter((e) => e.type === 'new');
  const ends = moto.filter((e) => e.type === 'end');
  assert.equal(news.length, 1, JSON.stringify(moto.map((e) => [e.type, e.id])));
  assert.equal(ends.length, 1, JSON.stringify(moto.map((e) => [e.type, e.id])));
  assert.equal(news[0]?.id, ends[0]?.id);
  assert.ok(moto.indexOf(news[0]!) < moto.indexOf(ends[0]!), 'new comes before end');
  // Every event line is a whole event: the end says when the track was last seen, and carries
  // the best snapshot (a whole motorcycle, not one cut by the frame's edge).
  const end = ends[0]!;
  assert.ok(typeof end.endedAt === 'string' && end.endedAt >= String(end.startedAt));
  const snap = end.snapshot as { bytes: number; box: number[] } | null;
  assert.ok(snap && snap.bytes > 0 && snap.bytes <= 64 * 1024, JSON.stringify(snap));
  assert.ok((snap.box[0] ?? 0) > 0.01 && (snap.box[2] ?? 1) < 0.99, `snapshot box ${JSON.stringify(snap.box)} is cut by the frame's edge`);
  for (const e of events) assert.ok(['new', 'update', 'end'].includes(String(e.type)));
});
