// A track event becomes one percept.event/1 message with the documented body and properties;
// window and event messages carry their source's zone and line counts, in either schema.
import test from 'node:test';
import assert from 'node:assert/strict';
import { encodeEvent, encodeWindow, SCHEMA_EVENT } from '../../src/telemetry/encode.js';
import type { ClosedWindow } from '../../src/telemetry/window.js';
import { T0, trackEvent as event } from '../helpers/events.js';

test('an event is one percept.event/1 message: body fields, ISO times, rounded figures, routing properties', () => {
  const m = encodeEvent(event(), 'webcam', { deviceId: 'dev', moduleId: 'percept' });
  assert.equal(m.contentType, 'application/json');
  assert.equal(m.contentEncoding, 'utf-8');
  assert.deepEqual(m.properties, { schema: SCHEMA_EVENT, eventType: 'event', source: 'door', type: 'new', label: 'person' });
  assert.deepEqual(JSON.parse(m.body.toString('utf8')), {
    schema: 'percept.event/1',
    deviceId: 'dev',
    moduleId: 'percept',
    type: 'new',
    id: 'door-7',
    label: 'person',
    source: { id: 'door', kind: 'webcam' },
    at: '2026-11-28T10:02:00.500Z',
    startedAt: '2026-11-28T10:02:00.000Z',
    endedAt: null,
    durationMs: 500,
    topScore: 0.9123,
    medianScore: 0.8,
    box: [0.1, 0.2, 0.3, 0.9],
    zones: ['entrance'],
    stationary: false,
    snapshot: { at: '2026-11-28T10:02:00.250Z', score: 0.9123, box: [0.1, 0.2, 0.3, 0.9], bytes: 23_456 },
  });
});

test('an end event carries its end time and the whole duration; no snapshot is null; no module id is left out', () => {
  const m = encodeEvent(event({ type: 'end', at: T0 + 40_000, endedAt: T0 + 39_000, snapshot: null }), 'video', { deviceId: 'dev' });
  const b = JSON.parse(m.body.toString('utf8')) as Record<string, unknown>;
  assert.equal(b.endedAt, '2026-11-28T10:02:39.000Z');
  assert.equal(b.durationMs, 39_000);
  assert.equal(b.snapshot, null);
  assert.equal('moduleId' in b, false);
  assert.equal(m.properties.type, 'end');
});

const window: ClosedWindow = {
  source: 'door',
  sourceKind: 'webcam',
  model: { name: 'yolox-nano', version: '1', sha256: 'a'.repeat(64) },
  start: T0,
  end: T0 + 1000,
  intervalMs: 1000,
  frames: [
    {
      seq: 1,
      capturedAt: T0 + 10,
      width: 640,
      height: 480,
      detections: [{ classId: 0, label: 'person', confidence: 0.9, box: [10, 20, 100, 400], boxNorm: [0.01, 0.04, 0.15, 0.83] }],
    },
  ],
};
const tallies = {
  zones: [{ source: 'door', zone: 'entrance', entered: 3, exited: 2, present: 1 }],
  lines: [{ source: 'door', line: 'threshold', forward: 2, backward: 1 }],
};

test('window messages carry the zone and line counts of their source', () => {
  const [m] = encodeWindow(window, 'percept', { deviceId: 'dev' }, undefined, tallies);
  const b = JSON.parse(m!.body.toString('utf8')) as Record<string, unknown>;
  assert.deepEqual(b.zones, [{ zone: 'entrance', entered: 3, exited: 2, present: 1 }]);
  assert.deepEqual(b.lines, [{ line: 'threshold', forward: 2, backward: 1 }]);
  assert.equal(m!.properties.eventType, 'detections');
});

test("without zones or lines, windows carry no counts (the compat body is then exactly azureeyemodule's)", () => {
  for (const t of [undefined, { zones: [], lines: [] }]) {
    const b = JSON.parse(encodeWindow(window, 'percept', { deviceId: 'dev' }, undefined, t)[0]!.body.toString('utf8')) as Record<string, unknown>;
    assert.equal('zones' in b, false);
    assert.equal('lines' in b, false);
    const compat = JSON.parse(encodeWindow(window, 'percept-compat', { deviceId: 'dev' }, undefined, t)[0]!.body.toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(compat), ['NEURAL_NETWORK']);
  }
});

test('compat windows of a source with zones or lines carry the counts beside NEURAL_NETWORK', () => {
  const [m] = encodeWindow(window, 'percept-compat', { deviceId: 'dev' }, undefined, tallies);
  const b = JSON.parse(m!.body.toString('utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(b), ['NEURAL_NETWORK', 'zones', 'lines']);
  assert.equal((b.NEURAL_NETWORK as unknown[]).length, 1);
  assert.deepEqual(b.zones, [{ zone: 'entrance', entered: 3, exited: 2, present: 1 }]);
  assert.deepEqual(b.lines, [{ line: 'threshold', forward: 2, backward: 1 }]);
  assert.equal(m!.properties.schema, 'azureeye.neural-network/1');
});

test("event messages carry their source's counts as sourceCounts, beside the track's own zones; none without zones or lines", () => {
  const b = JSON.parse(encodeEvent(event(), 'webcam', { deviceId: 'dev' }, tallies).body.toString('utf8')) as Record<string, unknown>;
  assert.deepEqual(b.zones, ['entrance'], "the track's zones stay as they are");
  assert.deepEqual(b.sourceCounts, {
    zones: [{ zone: 'entrance', entered: 3, exited: 2, present: 1 }],
    lines: [{ line: 'threshold', forward: 2, backward: 1 }],
  });
  for (const t of [undefined, { zones: [], lines: [] }]) {
    const plain = JSON.parse(encodeEvent(event(), 'webcam', { deviceId: 'dev' }, t).body.toString('utf8')) as Record<string, unknown>;
    assert.equal('sourceCounts' in plain, false);
  }
});

test('a window split into parts carries the counts in every part', () => {
  const frames = Array.from({ length: 40 }, (_, i) => ({ ...window.frames[0]!, seq: i + 1 }));
  const parts = encodeWindow({ ...window, frames }, 'percept', { deviceId: 'dev' }, 4000, tallies);
  assert.ok(parts.length > 1, `split into ${parts.length}`);
  for (const p of parts) {
    assert.ok(p.body.length <= 4000);
    assert.deepEqual((JSON.parse(p.body.toString('utf8')) as { zones: unknown }).zones, [{ zone: 'entrance', entered: 3, exited: 2, present: 1 }]);
  }
});
