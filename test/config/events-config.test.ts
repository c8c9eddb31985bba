// The settings the event consumers read: telemetry.mode (windows|events|both, default both,
// set by flag, variable, file or twin), telemetry.eventsOutput, and each source's named zones
// and lines in normalised coordinates; bad values are ERR_CONFIG naming the key and the input.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { applyDesired } from '../../src/config/desired.js';
import { PerceptError } from '../../src/errors.js';

const zone = { name: 'porch', points: [[0, 0.5], [0.5, 0.5], [0.5, 1], [0, 1]] };
const line = { name: 'kerb', points: [[0.6, 0], [0.6, 1]] };

test('telemetry.mode and the events output: defaults, flag, variable, twin', () => {
  const d = loadConfig({ env: {} });
  assert.equal(d.telemetry.mode, 'both');
  assert.equal(d.telemetry.eventsOutput, 'events');
  assert.equal(loadConfig({ env: { PERCEPT_TELEMETRY_MODE: 'events' } }).telemetry.mode, 'events');
  assert.equal(loadConfig({ env: {}, flags: { telemetryMode: 'windows' } }).telemetry.mode, 'windows');
  assert.equal(loadConfig({ env: { PERCEPT_EVENTS_OUTPUT_NAME: 'tracks' } }).telemetry.eventsOutput, 'tracks');
  assert.equal(applyDesired(d, { telemetry: { mode: 'events' } }).config.telemetry.mode, 'events');
  assert.throws(() => loadConfig({ env: { PERCEPT_TELEMETRY_MODE: 'sometimes' } }), (e: unknown) => PerceptError.is(e, 'ERR_CONFIG') && /telemetry\.mode.*PERCEPT_TELEMETRY_MODE/s.test((e as Error).message));
  assert.throws(() => applyDesired(d, { telemetry: { mode: 'all' } }), { code: 'ERR_CONFIG' });
});

test('zones and lines per source: named, normalised, validated', () => {
  const c = parseConfig({ sources: [{ id: 'cam', kind: 'webcam', uri: '/dev/video0', zones: [zone], lines: [line] }] });
  assert.deepEqual(c.sources[0]!.zones, [zone]);
  assert.deepEqual(c.sources[0]!.lines, [line]);
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a point outside the frame', { zones: [{ ...zone, points: [[0, 0], [1.2, 0], [1, 1]] }] }, /zones\.0\.points\.1\.0/],
    ['a zone of two points', { zones: [{ ...zone, points: [[0, 0], [1, 1]] }] }, /zones\.0\.points/],
    ['a line of one point', { lines: [{ ...line, points: [[0, 0]] }] }, /lines\.0\.points/],
    ['two zones of one name', { zones: [zone, zone] }, /zone names must be unique/],
    ['a nameless line', { lines: [{ points: line.points }] }, /lines\.0\.name/],
    ['an unknown key', { zones: [{ ...zone, colour: 'red' }] }, /colour/],
  ];
  for (const [what, extra, msg] of bad) {
    assert.throws(() => parseConfig({ sources: [{ id: 'cam', kind: 'webcam', uri: '/dev/video0', ...extra }] }), (e: unknown) => PerceptError.is(e, 'ERR_CONFIG') && msg.test((e as Error).message), what);
  }
  // The twin sets them on a live source, validated the same way.
  const base = parseConfig({ sources: [{ id: 'cam', kind: 'webcam', uri: '/dev/video0' }] });
  const applied = applyDesired(base, { sources: [{ id: 'cam', kind: 'webcam', uri: '/dev/video0', zones: [zone] }] });
  assert.deepEqual(applied.config.sources[0]!.zones, [zone]);
  assert.throws(() => applyDesired(base, { sources: [{ id: 'cam', kind: 'webcam', uri: '/dev/video0', lines: [{ name: 'x', points: [[0, 0], [2, 2]] }] }] }), { code: 'ERR_CONFIG' });
});
