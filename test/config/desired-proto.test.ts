// A desired document holding `__proto__` (JSON carries it as data; IoT Hub may store it) is
// rejected whole, naming the key, at any depth; merging never assigns it, so no object's
// prototype changes on the device.
import test from 'node:test';
import assert from 'node:assert/strict';
import { applyDesired, mergePatch } from '../../src/config/desired.js';
import { loadConfig } from '../../src/config/load.js';
import { PerceptError } from '../../src/errors.js';

const base = loadConfig({ flags: { sources: ['demo'] } });

test('a __proto__ key in the desired document is rejected naming where it is', () => {
  for (const [text, where] of [
    ['{"__proto__": {"workers": 1}}', '__proto__'],
    ['{"telemetry": {"__proto__": {"intervalMs": 300}}}', 'telemetry.__proto__'],
    ['{"sources": [{"id": "a", "kind": "demo", "__proto__": 1}]}', 'sources.0.__proto__'],
  ] as const) {
    const doc = JSON.parse(text) as Record<string, unknown>;
    assert.throws(
      () => applyDesired(base, doc),
      (e: unknown) => PerceptError.is(e, 'ERR_CONFIG') && (e as Error).message.includes(`${where}: the key '__proto__' is not allowed`),
      text,
    );
  }
});

test('merging a patch that holds __proto__ changes no prototype', () => {
  const merged = mergePatch(
    { telemetry: { intervalMs: 1000 } },
    JSON.parse('{"telemetry": {"__proto__": {"polluted": true}}, "__proto__": {"polluted": true}}') as Record<string, unknown>,
  );
  assert.equal(Object.getPrototypeOf(merged), Object.prototype);
  assert.equal(Object.getPrototypeOf(merged.telemetry), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(merged, { telemetry: { intervalMs: 1000 } });
});

test('a live source from the twin names no file on the device: a webcam is /dev/videoN, a stream a network URL, demo and synthetic nothing', () => {
  const ok = [
    { id: 'a', kind: 'webcam', uri: '/dev/video0' },
    { id: 'a', kind: 'rtsp', uri: 'rtsp://192.0.2.1:554/stream' },
    { id: 'a', kind: 'demo' },
    { id: 'a', kind: 'synthetic' },
  ];
  for (const s of ok) assert.doesNotThrow(() => applyDesired(base, { sources: [s] }), JSON.stringify(s));
  const bad = [
    { id: 'a', kind: 'synthetic', uri: '/etc/shadow' },
    { id: 'a', kind: 'webcam', uri: '/etc/passwd' },
    { id: 'a', kind: 'rtsp', uri: '/var/lib/percept/outbox.db' },
    { id: 'a', kind: 'rtsp', uri: 'file:///etc/passwd' },
    { id: 'a', kind: 'demo', uri: '/home' },
  ];
  for (const s of bad)
    assert.throws(
      () => applyDesired(base, { sources: [s] }),
      (e: unknown) => PerceptError.is(e, 'ERR_CONFIG') && /sources\.0\.uri: from the twin, a \w+ source's uri must be/.test((e as Error).message),
      JSON.stringify(s),
    );
});
