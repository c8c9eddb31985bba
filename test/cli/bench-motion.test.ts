// `percept bench --section motion`: the still photo runs as a live source (as a camera would,
// newest frame wins), each ratio is printed with its goal and whether this run met it, and the
// JSON agrees with what is printed. How low the ratios are is the bench's business.
import test from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { at } from '../helpers/at.js';
import { nearQuotient } from '../helpers/figures.js';

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
  assert.ok(!('pool_fps' in o), 'only the motion section ran');
});
