// The agent's metrics registry: a name asked for twice is one series (how a rebuilt component
// continues it), counters read synchronously match what /metrics renders, and the text is valid.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Follower, Metrics } from '../../src/metrics.js';
import { parsePrometheus, valueOf } from './prom-parse.js';

test('get-or-create: the same name is the same series, read synchronously as rendered', async () => {
  const m = new Metrics();
  const a = m.counter('t_jobs_total', 'Jobs', ['result', 'kind']);
  a.inc(2, { result: 'ok', kind: 'x' });
  const b = m.counter('t_jobs_total', 'Jobs', ['kind', 'result']);
  assert.equal(a, b, 'a second owner gets the first one');
  b.inc(3, { kind: 'x', result: 'ok' });
  assert.equal(a.value({ result: 'ok', kind: 'x' }), 5);
  assert.equal(a.value({ result: 'bad', kind: 'x' }), 0);
  const plain = m.counter('t_plain_total', 'Plain');
  assert.throws(() => m.gauge('t_plain_total', 'Plain'), /already registered as a counter/);
  assert.throws(() => m.counter('t_plain_total', 'Plain', ['x']), /labels/);
  const parsed = parsePrometheus(await m.render());
  assert.equal(valueOf(parsed, 't_jobs_total', { result: 'ok', kind: 'x' }), 5);
  assert.equal(valueOf(parsed, 't_plain_total'), plain.value(), 'a counter without labels is exported at 0');
});

test('a source that restarts its own count is followed without going backwards', () => {
  const m = new Metrics();
  const c = m.counter('t_frames_total', 'Frames');
  const f = new Follower(c);
  f.update(4);
  f.update(10);
  f.update(3); // its process restarted: 3 new ones
  f.update(5);
  assert.equal(c.value(), 15);
});

test('collect hooks run before each render; NaN is written as the text format spells it', async () => {
  const m = new Metrics();
  const g = m.gauge('t_depth', 'Depth');
  let depth = 1;
  const stop = m.onCollect(() => g.set(depth));
  depth = 7;
  assert.equal(valueOf(parsePrometheus(await m.render()), 't_depth'), 7);
  stop();
  depth = 9;
  assert.equal(valueOf(parsePrometheus(await m.render()), 't_depth'), 7, 'a removed hook no longer runs');
  g.set(NaN);
  const text = await m.render();
  assert.match(text, /^t_depth NaN$/m);
  assert.ok(Number.isNaN(valueOf(parsePrometheus(text), 't_depth')));
});
