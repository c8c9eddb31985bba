// The settings the event consumers read: telemetry.mode (windows|events|both, default both,
// set by flag, variable, file or twin) and telemetry.eventsOutput; bad values are ERR_CONFIG
// naming the key and the input. (Zones and lines are the tracker's settings, tested with it.)
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { applyDesired } from '../../src/config/desired.js';
import { PerceptError } from '../../src/errors.js';

test('telemetry.mode and the events output: defaults, flag, variable, twin', () => {
  const d = loadConfig({ env: {} });
  assert.equal(d.telemetry.mode, 'both');
  assert.equal(d.telemetry.eventsOutput, 'events');
  assert.equal(loadConfig({ env: { PERCEPT_TELEMETRY_MODE: 'events' } }).telemetry.mode, 'events');
  assert.equal(loadConfig({ env: {}, flags: { telemetryMode: 'windows' } }).telemetry.mode, 'windows');
  assert.equal(loadConfig({ env: { PERCEPT_EVENTS_OUTPUT_NAME: 'tracks' } }).telemetry.eventsOutput, 'tracks');
  assert.equal(applyDesired(d, { telemetry: { mode: 'events' } }).config.telemetry.mode, 'events');
  assert.throws(
    () => loadConfig({ env: { PERCEPT_TELEMETRY_MODE: 'sometimes' } }),
    (e: unknown) => PerceptError.is(e, 'ERR_CONFIG') && /telemetry\.mode.*PERCEPT_TELEMETRY_MODE/s.test((e as Error).message),
  );
  assert.throws(() => applyDesired(d, { telemetry: { mode: 'all' } }), { code: 'ERR_CONFIG' });
});
