// The gate's settings: on by default for live kinds and off for files, `--motion on|off` and the
// motion.* keys over it, a source's own `motion` over those; bad settings and bad masks are
// ERR_CONFIG errors that name the key, from a file, a flag or the twin.
import test from 'node:test';
import assert from 'node:assert/strict';
import { gateOptions } from '../../src/events/gate.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { applyDesired } from '../../src/config/desired.js';
import { PerceptError } from '../../src/errors.js';

const kinds = [
  { id: 'w', kind: 'webcam', uri: '/dev/video0' },
  { id: 'r', kind: 'rtsp', uri: 'rtsp://cam/1' },
  { id: 'd', kind: 'demo' },
  { id: 's', kind: 'synthetic' },
  { id: 'i', kind: 'image', uri: 'a.jpg' },
  { id: 'f', kind: 'folder', uri: 'dir' },
  { id: 'v', kind: 'video', uri: 'clip.mp4' },
];

test('auto gates live kinds and leaves images, folders and video files alone', () => {
  const cfg = parseConfig({ sources: kinds });
  assert.deepEqual(
    cfg.sources.map((s) => [s.id, gateOptions(cfg, s).enabled]),
    [
      ['w', true],
      ['r', true],
      ['d', true],
      ['s', true],
      ['i', false],
      ['f', false],
      ['v', false],
    ],
  );
  const d = gateOptions(cfg, cfg.sources[0]!);
  assert.deepEqual(
    { ...d, masks: undefined },
    {
      enabled: true,
      keyframeMs: 5000,
      idleIntervalMs: 200,
      frameHeight: 120,
      settings: { threshold: 30, minArea: 10, backgroundWeight: 0.01, recalibrateFraction: 0.8, improveContrast: true },
      masks: undefined,
    },
  );
});

test('--motion on|off overrides auto for every source; a source may override it again', () => {
  const on = loadConfig({ env: {}, flags: { sources: ['clip.mp4'], motion: 'on', motionKeyframeSeconds: 2 } });
  assert.equal(gateOptions(on, on.sources[0]!).enabled, true);
  assert.equal(gateOptions(on, on.sources[0]!).keyframeMs, 2000);
  const off = loadConfig({ env: { PERCEPT_MOTION: 'off' }, flags: { sources: ['demo'] } });
  assert.equal(gateOptions(off, off.sources[0]!).enabled, false);
  const cfg = parseConfig({ sources: [{ id: 'v', kind: 'video', uri: 'clip.mp4', motion: { enabled: 'on', threshold: 12 } }], motion: { enabled: 'off' } });
  assert.equal(gateOptions(cfg, cfg.sources[0]!).enabled, true);
  assert.equal(gateOptions(cfg, cfg.sources[0]!).settings.threshold, 12);
});

function configError(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(PerceptError.is(e, 'ERR_CONFIG'), `a typed ERR_CONFIG, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('bad motion settings are ERR_CONFIG naming the key', () => {
  configError(
    () => loadConfig({ env: {}, flags: { sources: ['demo'], motion: 'sometimes' } }),
    /motion\.enabled.*expected one of auto, on, off but got 'sometimes'/s,
  );
  configError(
    () => loadConfig({ env: { PERCEPT_MOTION_THRESHOLD: '0' }, flags: { sources: ['demo'] } }),
    /motion\.threshold.*expected an integer from 1 to 255 but got 0/s,
  );
  configError(() => parseConfig({ sources: [{ id: 'a', kind: 'demo' }], motion: { keyframeSeconds: 0 } }), /motion\.keyframeSeconds/);
  configError(() => parseConfig({ sources: [{ id: 'a', kind: 'demo', motion: { minArea: -1 } }] }), /sources\.0\.motion\.minArea/);
  configError(() => parseConfig({ sources: [{ id: 'a', kind: 'demo', motion: { sensitivity: 3 } }] }), /sources\.0\.motion.*sensitivity/);
});

test('bad motion masks are ERR_CONFIG naming the polygon and point', () => {
  const bad = (motionMasks: unknown) => () => parseConfig({ sources: [{ id: 'a', kind: 'demo', motionMasks }] });
  configError(
    bad([
      [
        [0, 0],
        [1, 1],
      ],
    ]),
    /sources\.0\.motionMasks\.0.*at least 3 points/s,
  );
  configError(
    bad([
      [
        [0, 0],
        [1, 0],
        [1, 1.5],
      ],
    ]),
    /sources\.0\.motionMasks\.0\.2.*from 0 to 1/s,
  );
  configError(
    bad([
      [
        [0, 0],
        [1, 0],
        ['a', 1],
      ],
    ]),
    /sources\.0\.motionMasks\.0\.2/,
  );
  configError(bad([[0, 0, 1, 1]]), /sources\.0\.motionMasks\.0/);
  configError(bad('everything'), /sources\.0\.motionMasks/);
});

test('the twin sets motion settings and masks, checked like the rest', () => {
  const base = parseConfig({ sources: [{ id: 'cam', kind: 'rtsp', uri: 'rtsp://cam/1' }] });
  const { config } = applyDesired(base, {
    motion: { enabled: 'off', keyframeSeconds: 10 },
    sources: [
      {
        id: 'cam',
        kind: 'rtsp',
        uri: 'rtsp://cam/1',
        motionMasks: [
          [
            [0, 0],
            [0.5, 0],
            [0.5, 0.2],
          ],
        ],
      },
    ],
  });
  assert.equal(config.motion.enabled, 'off');
  assert.equal(config.motion.keyframeSeconds, 10);
  assert.deepEqual(gateOptions(config, config.sources[0]!).masks, [
    [
      [0, 0],
      [0.5, 0],
      [0.5, 0.2],
    ],
  ]);
  configError(() => applyDesired(base, { motion: { threshold: 300 } }), /motion\.threshold/);
  configError(() => applyDesired(base, { sources: [{ id: 'cam', kind: 'rtsp', uri: 'rtsp://cam/1', motionMasks: [[[0, 0]]] }] }), /motionMasks/);
});
