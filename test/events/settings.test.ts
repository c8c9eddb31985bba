// Zones, lines and the tracker's settings at every edge: the config file, flags and the twin
// (which may set zones and lines of any source by id); every bad value is one ERR_CONFIG that
// names where it came from.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { applyDesired } from '../../src/config/desired.js';
import { parseRunArgs } from '../../src/cli/args.js';
import { PerceptError } from '../../src/errors.js';
import { tempDir } from '../helpers/paths.js';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(PerceptError.is(e, 'ERR_CONFIG'), `ERR_CONFIG, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected a refusal');
}

const zone = {
  name: 'door',
  polygon: [
    [0, 0.5],
    [0.5, 0.5],
    [0.5, 1],
    [0, 1],
  ],
};
const line = {
  name: 'gate',
  points: [
    [0.5, 0],
    [0.5, 1],
  ],
};

function fileWith(source: Record<string, unknown>): string {
  const file = path.join(tempDir(), 'c.json');
  fs.writeFileSync(file, JSON.stringify({ sources: [{ id: 'cam', kind: 'video', uri: 'clip.mp4', ...source }] }));
  return file;
}

test('zones and lines in the config file reach the source; the tracker has its defaults', () => {
  const cfg = loadConfig({ file: fileWith({ zones: [zone], lines: [line] }), env: {} });
  assert.deepEqual(cfg.sources[0]?.zones, [zone]);
  assert.deepEqual(cfg.sources[0]?.lines, [line]);
  assert.deepEqual(cfg.tracker, { highScore: 0.5, matchIou: 0.2, timeoutSeconds: 5, stationarySeconds: 10, threshold: 0.5 });
  assert.deepEqual(cfg.events, { maxBytes: 64 * 1024 * 1024, retentionSeconds: 86_400 });
});

test('bad zones and lines are ERR_CONFIG naming the key', () => {
  assert.match(
    refusal(() =>
      loadConfig({
        file: fileWith({
          zones: [
            {
              name: 'z',
              polygon: [
                [0, 0],
                [1, 1],
              ],
            },
          ],
        }),
        env: {},
      }),
    ),
    /sources\.0\.zones\.0\.polygon/,
  );
  assert.match(
    refusal(() =>
      loadConfig({
        file: fileWith({
          zones: [
            {
              name: 'z',
              polygon: [
                [0, 0],
                [1.5, 0],
                [1, 1],
              ],
            },
          ],
        }),
        env: {},
      }),
    ),
    /sources\.0\.zones\.0\.polygon\.1\.0/,
  );
  assert.match(
    refusal(() => loadConfig({ file: fileWith({ lines: [{ name: 'l', points: [[0.5, 0]] }] }), env: {} })),
    /sources\.0\.lines\.0\.points/,
  );
  assert.match(
    refusal(() => loadConfig({ file: fileWith({ zones: [zone, zone] }), env: {} })),
    /two zones share the name 'door'/,
  );
  assert.match(
    refusal(() => loadConfig({ file: fileWith({ zones: [{ ...zone, name: '../x' }] }), env: {} })),
    /sources\.0\.zones\.0\.name/,
  );
});

test('tracker flags are checked like every option', () => {
  assert.equal(
    loadConfig({ env: {}, flags: { ...parseRunArgs(['--track-timeout', '2.5', '--event-threshold', '0.7']).flags, sources: ['demo'] } }).tracker.timeoutSeconds,
    2.5,
  );
  assert.match(
    refusal(() => loadConfig({ env: {}, flags: { ...parseRunArgs(['--track-timeout', '0']).flags, sources: ['demo'] } })),
    /tracker\.timeoutSeconds: .* \(from --track-timeout\)/,
  );
  assert.match(
    refusal(() => loadConfig({ env: { PERCEPT_TRACK_MATCH_IOU: '0' }, flags: { sources: ['demo'] } })),
    /tracker\.matchIou.*PERCEPT_TRACK_MATCH_IOU/,
  );
});

test('the twin sets zones and lines of a source by id, and tracker settings; bad ones are refused whole', () => {
  const base = loadConfig({ file: fileWith({}), env: {} });
  const { config } = applyDesired(base, { zones: { cam: [zone] }, lines: { cam: [line] }, tracker: { timeoutSeconds: 3 } });
  assert.deepEqual(config.sources[0]?.zones, [zone]);
  assert.deepEqual(config.sources[0]?.lines, [line]);
  assert.equal(config.tracker.timeoutSeconds, 3);
  assert.equal(config.sources[0]?.kind, 'video', 'the file source stays');
  assert.match(
    refusal(() => applyDesired(base, { zones: { other: [zone] } })),
    /zones\.other: no source has the id 'other'.*desired properties/,
  );
  assert.match(
    refusal(() => applyDesired(base, { zones: { cam: [{ name: 'z', polygon: [[0, 0]] }] } })),
    /zones\.cam\.0\.polygon.*desired properties/,
  );
  assert.match(
    refusal(() => applyDesired(base, { tracker: { highScore: 2 } })),
    /tracker\.highScore.*desired properties/,
  );
});

test('per-label thresholds come from the file and the twin, checked like the rest', () => {
  const file = path.join(tempDir(), 'c.json');
  fs.writeFileSync(file, JSON.stringify({ sources: [{ id: 'cam', kind: 'demo' }], labelThresholds: { person: 0.7 } }));
  const cfg = loadConfig({ file, env: {} });
  assert.deepEqual(cfg.labelThresholds, { person: 0.7 });
  assert.deepEqual(loadConfig({ env: {}, flags: { sources: ['demo'] } }).labelThresholds, {});
  assert.deepEqual(applyDesired(cfg, { labelThresholds: { cat: 0.4 } }).config.labelThresholds, { cat: 0.4 });
  fs.writeFileSync(file, JSON.stringify({ sources: [{ id: 'cam', kind: 'demo' }], labelThresholds: { person: 1.5 } }));
  assert.match(
    refusal(() => loadConfig({ file, env: {} })),
    /labelThresholds\.person/,
  );
  assert.match(
    refusal(() => applyDesired(cfg, { labelThresholds: { cat: 'high' } })),
    /labelThresholds\.cat.*desired properties/,
  );
});
