// `percept bench --section motion`: the still photo runs as a live source (as a camera would,
// newest frame wins), each ratio is printed with its goal and whether this run met it, and the
// JSON agrees with what is printed; the sliding clip's events with the gate off and on are compared
// in order and by their tracks' times. How low the ratios are is the bench's business.
import test from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { at } from '../helpers/at.js';
import { nearQuotient } from '../helpers/figures.js';
import { clipDifferences, type ClipEvent } from '../../src/bench/motion.js';

test('bench --section motion: a live still photo, gate off against on, each ratio with its goal', { timeout: 240_000 }, async () => {
  const r = await runCli(['bench', '--section', 'motion', '--json', '--seconds', '1'], { timeoutMs: 230_000 });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const o = JSON.parse(at(lines, -1)) as Record<string, unknown>;
  assert.equal(o.motion_static_live, true, 'the still photo ran as a live source in both runs');
  const num = (k: string): number => {
    assert.ok(typeof o[k] === 'number' && Number.isFinite(o[k]) && o[k] >= 0, `${k} is a number, got ${String(o[k])}`);
    return o[k];
  };
  assert.ok(num('motion_static_inferred_off') > 0, 'with the gate off the model ran');
  nearQuotient(num('motion_static_cpu_ratio'), num('motion_static_cpu_s_on'), num('motion_static_cpu_s_off'), 'CPU on/off');
  // Each ratio printed with its goal and a verdict that matches the figure and the JSON.
  const printed = lines.find((l) => l.startsWith('inference on/off '));
  assert.ok(printed, r.stdout);
  const m = /^inference on\/off ([\d.]+) \(goal <= 0\.1: (met|NOT met)\), process CPU on\/off ([\d.]+) \(goal <= 0\.2: (met|NOT met)\)$/.exec(printed);
  assert.ok(m, printed);
  const [, inference, inferenceVerdict, cpu, cpuVerdict] = m;
  assert.equal(Number(inference), num('motion_static_inference_ratio'));
  assert.equal(Number(cpu), num('motion_static_cpu_ratio'));
  assert.equal(inferenceVerdict === 'met', Number(inference) <= 0.1);
  assert.equal(cpuVerdict === 'met', Number(cpu) <= 0.2);
  assert.equal(o.motion_static_inference_goal_met, Number(inference) <= 0.1);
  assert.equal(o.motion_static_cpu_goal_met, Number(cpu) <= 0.2);
  // The clip: events in order with their tracks' media times, and what differs said.
  const clipEvent = /^(new|end):[a-z ]+@\d+\.\d\d-\d+\.\d\d$/;
  for (const k of ['motion_clip_events_off', 'motion_clip_events_on']) {
    const listed = String(o[k]).split(/ (?=(?:new|end):)/);
    assert.ok(listed.length >= 2 && listed.every((e) => clipEvent.test(e)), `${k}: ${String(o[k])}`);
  }
  assert.equal(o.motion_clip_same_events, o.motion_clip_differences === '', String(o.motion_clip_differences));
  assert.ok(!('pool_fps' in o), 'only the motion section ran');
});

test('the clip comparison: the same events in the same order, each track within one keyframe interval', () => {
  const ev = (type: 'new' | 'end', label: string, startS: number, endS: number): ClipEvent => ({ type, label, startS, endS });
  const off = [ev('new', 'cup', 0, 9.9), ev('new', 'motorcycle', 2.5, 7), ev('end', 'cup', 0, 9.9), ev('end', 'motorcycle', 2.5, 7)];
  assert.deepEqual(clipDifferences(off, off, 5), []);
  // Within a keyframe interval: the same.
  const late = [ev('new', 'cup', 4.9, 9.9), ev('new', 'motorcycle', 2.6, 7.1), ev('end', 'cup', 4.9, 9.9), ev('end', 'motorcycle', 2.6, 7.1)];
  assert.deepEqual(clipDifferences(off, late, 5), []);
  // The same events sorted, in another order: different.
  const swapped = [off[1]!, off[0]!, off[2]!, off[3]!];
  assert.deepEqual(clipDifferences(off, swapped, 5), ['event 1: new:cup off, new:motorcycle on', 'event 2: new:motorcycle off, new:cup on']);
  // A track that ends far earlier with the gate on: different, and said how.
  const early = [off[0]!, ev('new', 'motorcycle', 2.5, 1), off[2]!, ev('end', 'motorcycle', 2.5, 1)];
  assert.deepEqual(clipDifferences(off, early, 5), [
    'new:motorcycle end 7.00 s off, 1.00 s on (more than 5 s apart)',
    'end:motorcycle end 7.00 s off, 1.00 s on (more than 5 s apart)',
  ]);
  // One missing.
  assert.deepEqual(clipDifferences(off, off.slice(0, 3), 5), ['event 4: end:motorcycle off, none on']);
});
