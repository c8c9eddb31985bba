// Telemetry windows on the capture clock: window k spans [k*interval, (k+1)*interval), every
// frame lies in the window holding its capturedAt and in no other, also across interval and
// model changes, frames captured long before they are grouped, and late results.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Windows, type ClosedWindow, type WindowFrame } from '../../src/telemetry/window.js';
import { at } from '../helpers/at.js';

const modelA = { name: 'a', version: '1', sha256: 'aa' };
const modelB = { name: 'b', version: '1', sha256: 'bb' };
const frame = (seq: number, capturedAt: number): WindowFrame => ({ seq, capturedAt, width: 1, height: 1, detections: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function checkEveryFrameInExactlyOne(closed: ClosedWindow[], sent: Map<string, WindowFrame[]>): void {
  for (const [source, frames] of sent) {
    const windows = closed.filter((w) => w.source === source);
    for (const f of frames) {
      const holding = windows.filter((w) => w.frames.includes(f));
      assert.equal(holding.length, 1, `frame ${source}#${f.seq} is in ${holding.length} windows`);
      const w = at(holding, 0);
      assert.ok(w.start <= f.capturedAt && f.capturedAt < w.end, `frame ${source}#${f.seq} at ${f.capturedAt} outside [${w.start}, ${w.end})`);
    }
    assert.equal(
      windows.reduce((n, w) => n + w.frames.length, 0),
      frames.length,
      'no frame invented or lost',
    );
  }
}

test('windows are aligned to the interval on the capture clock, and every frame is in exactly one', () => {
  const closed: ClosedWindow[] = [];
  const w = new Windows(1000, (c) => closed.push(c));
  try {
    const sent = new Map<string, WindowFrame[]>([
      ['cam', []],
      ['door', []],
    ]);
    // Captured well before now (as a lossless file source queued behind the pool would be).
    const t0 = Date.now() - 60_000 + 123;
    let seq = 0;
    const add = (source: string, t: number, model = modelA) => {
      const f = frame(++seq, t);
      sent.get(source)!.push(f);
      w.add(source, 'image', model, f);
    };
    for (let i = 0; i < 40; i++) add('cam', t0 + i * 137);
    for (let i = 0; i < 10; i++) add('door', t0 + i * 401);
    w.setInterval(700); // from the next window on
    for (let i = 40; i < 70; i++) add('cam', t0 + i * 137);
    add('cam', t0 + 70 * 137 + 5, modelB); // a model change mid-window
    for (let i = 71; i < 80; i++) add('cam', t0 + i * 137, modelB);
    w.flush();
    checkEveryFrameInExactlyOne(closed, sent);
    const cam = closed.filter((c) => c.source === 'cam');
    // Aligned: a window of 1000 ms starts on a whole second of the capture clock.
    assert.equal(at(cam, 0).start % 1000, 0);
    assert.equal(at(cam, 0).end - at(cam, 0).start, 1000);
    assert.ok(
      cam.some((c) => c.intervalMs === 700 && c.start % 700 === 0 && c.end - c.start === 700),
      'aligned to the new interval',
    );
    // One source's windows never overlap, in order.
    for (let i = 1; i < cam.length; i++) assert.ok(at(cam, i).start >= at(cam, i - 1).end, `window ${i} overlaps the one before`);
    assert.ok(cam.some((c) => c.model.sha256 === 'bb'));
  } finally {
    w.stop();
  }
});

test('a late result whose window was already published goes in a window over its own span', async () => {
  const closed: ClosedWindow[] = [];
  const w = new Windows(200, (c) => closed.push(c));
  try {
    const t0 = Math.floor(Date.now() / 200) * 200 - 10_000;
    const frames = [frame(1, t0 + 10), frame(2, t0 + 50)];
    w.add('cam', 'webcam', modelA, at(frames, 0));
    // The timer publishes the window once the wall clock is past its end by the grace.
    for (let i = 0; i < 100 && closed.length === 0; i++) await sleep(50);
    assert.equal(closed.length, 1, 'published by the timer');
    w.add('cam', 'webcam', modelA, at(frames, 1));
    frames.push(frame(3, t0 + 250));
    w.add('cam', 'webcam', modelA, at(frames, 2));
    w.flush();
    checkEveryFrameInExactlyOne(closed, new Map([['cam', frames]]));
    assert.deepEqual(
      closed.map((c) => [c.start - t0, c.end - t0, c.frames.map((f) => f.seq)]),
      [
        [0, 200, [1]],
        [0, 200, [2]],
        [200, 400, [3]],
      ],
    );
  } finally {
    w.stop();
  }
});
