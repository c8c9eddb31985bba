// The lifecycle on tracker output: `new` once confirmed and above the median-score threshold,
// updates at most one a second per track (on the capture clock), `end` only for an announced
// track, the best snapshot chosen by score, size and a box not cut by the frame's edge.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Tracker, TRACKER_DEFAULTS } from '../../src/events/tracker.js';
import { Lifecycle } from '../../src/events/lifecycle.js';
import { ZoneBook } from '../../src/events/zones.js';
import { snapshotQuality } from '../../src/events/snapshot.js';
import type { Box } from '../../src/types.js';

function setup(threshold = 0.5, labelThresholds?: Record<string, number>) {
  let n = 0;
  const tracker = new Tracker({ ...TRACKER_DEFAULTS, fps: 10, timeoutSeconds: 1 }, () => `c-${++n}`);
  const life = new Lifecycle({ threshold, labelThresholds, updateIntervalMs: 1000 });
  const zones = new ZoneBook(
    'c',
    [
      {
        name: 'right',
        polygon: [
          [0.5, 0],
          [1, 0],
          [1, 1],
          [0.5, 1],
        ],
      },
    ],
    [],
  );
  const log: string[] = [];
  const frame = (i: number, dets: Array<{ box: Box; score: number }>) => {
    const st = tracker.update(
      dets.map((d) => ({ label: 'cat', ...d })),
      i * 100,
    );
    for (const d of life.step(i * 100, st, zones).decisions) log.push(`${i}:${d.type}:${d.zones.join(',')}`);
  };
  return { frame, log };
}

test('new once confirmed, updates on zone changes at most one a second, end once', () => {
  const { frame, log } = setup();
  // Moving right at 0.02 a frame (10 fps): it crosses into the right half around frame 20.
  for (let i = 0; i < 40; i++) frame(i, [{ box: [0.1 + i * 0.02, 0.3, 0.2 + i * 0.02, 0.6], score: 0.8 }]);
  for (let i = 40; i < 60; i++) frame(i, []);
  const types = log.map((l) => l.split(':')[1]);
  assert.equal(types.filter((t) => t === 'new').length, 1);
  assert.equal(types.filter((t) => t === 'end').length, 1);
  assert.equal(log[0]?.startsWith('4:new'), true, `confirmed on the 5th frame (fps/2): ${log.join(' ')}`);
  assert.ok(
    log.some((l) => /:update:right$/.test(l)),
    log.join(' '),
  );
  const updates = log.filter((l) => l.includes(':update:')).map((l) => Number(l.split(':')[0]));
  for (let k = 1; k < updates.length; k++) assert.ok((updates[k] ?? 0) - (updates[k - 1] ?? 0) >= 10, `updates ${updates.join(',')} closer than a second`);
});

test('a track below the threshold is never announced, and ends silently', () => {
  const { frame, log } = setup(0.9);
  for (let i = 0; i < 20; i++) frame(i, [{ box: [0.3, 0.3, 0.4, 0.5], score: 0.7 }]);
  for (let i = 20; i < 40; i++) frame(i, []);
  assert.deepEqual(log, []);
});

test("a label's own threshold overrides the default", () => {
  const strict = setup(0.5, { cat: 0.9 });
  for (let i = 0; i < 20; i++) strict.frame(i, [{ box: [0.3, 0.3, 0.4, 0.5], score: 0.7 }]);
  assert.deepEqual(strict.log, []);
  const lenient = setup(0.9, { cat: 0.6 });
  for (let i = 0; i < 20; i++) lenient.frame(i, [{ box: [0.3, 0.3, 0.4, 0.5], score: 0.7 }]);
  assert.equal(lenient.log[0], '4:new:');
});

test('a snapshot prefers a confident, large object not cut by the frame edge', () => {
  assert.ok(snapshotQuality(0.9, [0.2, 0.2, 0.6, 0.6]) > snapshotQuality(0.6, [0.2, 0.2, 0.6, 0.6]));
  assert.ok(snapshotQuality(0.8, [0.2, 0.2, 0.6, 0.6]) > snapshotQuality(0.8, [0.2, 0.2, 0.3, 0.3]));
  assert.ok(snapshotQuality(0.8, [0.2, 0.2, 0.6, 0.6]) > snapshotQuality(0.9, [0, 0.2, 0.5, 0.7]), 'cut by the left edge');
});

test('a track that stops moving gives one update saying so, not a new event', () => {
  let n = 0;
  const tracker = new Tracker({ ...TRACKER_DEFAULTS, fps: 10, stationarySeconds: 1 }, () => `s-${++n}`);
  const life = new Lifecycle({ threshold: 0.5, updateIntervalMs: 1000 });
  const zones = new ZoneBook('c', [], []);
  const out: string[] = [];
  for (let i = 0; i < 60; i++) {
    const x = Math.min(0.1 + i * 0.02, 0.4);
    const st = tracker.update([{ label: 'car', score: 0.8, box: [x, 0.3, x + 0.2, 0.6] }], i * 100);
    for (const d of life.step(i * 100, st, zones).decisions) out.push(`${d.type}:${d.track.state}`);
  }
  assert.equal(out.filter((o) => o.startsWith('new')).length, 1, out.join(' '));
  assert.ok(out.includes('update:stationary'), out.join(' '));
  assert.equal(out.filter((o) => o === 'update:stationary').length, 1, out.join(' '));
});
