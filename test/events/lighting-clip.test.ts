// A sudden brightness change of the whole frame (a light switched on) on real video gives no
// event: coffee.png for 8 s, 40% brighter from second 4, through the real pipeline with the
// motion gate on and YOLOX-Nano. The cup and the table are announced once at the start; the
// change is recalibrated by the gate, not taken for motion, and nothing new is announced.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { PerceptEvent } from '../../src/events/types.js';
import { tempDir, YOLOX_NANO } from '../helpers/paths.js';
import { clip, clipsUnavailable } from '../helpers/clips.js';

const FLIP_S = 4;
const LIGHTING_ARGS = [
  '-loop', '1', '-t', '8', '-framerate', '15', '-i', 'coffee.png',
  '-vf', `scale=1280:720,setsar=1,eq=brightness=0.4:enable='gte(t,${FLIP_S})',format=yuv420p`,
  '-r', '15', '-c:v', 'libx264', '-crf', '18',
]; // prettier-ignore

test('a sudden brightness change of the whole frame gives no event', { skip: clipsUnavailable(), timeout: 300_000 }, async () => {
  const file = await clip(LIGHTING_ARGS);
  const cfg = parseConfig({
    sources: [{ id: 'room', kind: 'video', uri: file }],
    model: { name: 'yolox-nano', path: YOLOX_NANO },
    motion: { enabled: 'on' },
    workers: 1,
    threads: 1,
    output: 'none',
  });
  const p = new Pipeline(cfg, { logger: createLogger({ level: 'silent' }), eventDir: tempDir() });
  const events: Array<PerceptEvent & { seq: number }> = [];
  let seq = 0;
  let inferredAfter = 0;
  p.on('result', (r) => {
    seq = r.seq;
    if (r.seq >= FLIP_S * 15 + 1) inferredAfter++;
  });
  p.on('event', (e) => events.push({ ...e, seq }));
  const ended = new Promise<void>((resolve) => p.once('end', resolve));
  await p.start();
  await ended;
  const flipSeq = FLIP_S * 15 + 1;
  const news = events.filter((e) => e.type === 'new');
  assert.ok(news.length >= 1, 'the still objects are announced');
  assert.deepEqual(
    news.filter((e) => e.seq >= flipSeq).map((e) => e.label),
    [],
    'nothing announced after the light changed',
  );
  assert.equal(new Set(news.map((e) => e.id)).size, news.length, 'one new per track');
  for (const n of news) assert.equal(events.filter((e) => e.id === n.id && e.type === 'end').length, 1, `${n.label} ends once, at the end of the file`);
  // The gate took the change for a new background, not for motion: after it, keyframes alone
  // reach the model (taken for motion, the 4 s after it would be inferred frame after frame).
  assert.ok(inferredAfter <= 5, `frames inferred after the change: ${inferredAfter}`);
  assert.ok(p.status().frames.skipped >= 80, `frames skipped by the gate: ${p.status().frames.skipped} of 120`);
});
