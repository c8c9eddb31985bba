// Configuration: one schema for file, environment and flags, later layers winning, and
// errors that name the field.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, parseSourceSpec } from '../../src/config/load.js';
import { PerceptError } from '../../src/errors.js';
import { tempDir, SHARED_IMAGES } from '../helpers/paths.js';
import { at } from '../helpers/at.js';

test('source specs are classified', () => {
  assert.equal(parseSourceSpec('demo', 0).kind, 'demo');
  assert.equal(parseSourceSpec('synthetic', 0).kind, 'synthetic');
  // The word names the kind: no uri, which for a synthetic source would be a photo to play.
  assert.equal(parseSourceSpec('synthetic', 0).uri, '');
  assert.equal(parseSourceSpec('cam=testsrc', 0).uri, '');
  assert.equal(parseSourceSpec('/dev/video2', 0).kind, 'webcam');
  assert.equal(parseSourceSpec('rtsp://10.0.0.2/stream', 0).kind, 'rtsp');
  assert.equal(parseSourceSpec(SHARED_IMAGES, 0).kind, 'folder');
  assert.equal(parseSourceSpec('x.jpg', 0).kind, 'image');
  assert.equal(parseSourceSpec('clip.mp4', 0).kind, 'video');
  // Default ids: src<N> by position, demo and synthetic by kind (position appended after the first).
  assert.deepEqual(
    ['a.jpg', 'demo', 'synthetic', 'b.mp4'].map((u, i) => parseSourceSpec(u, i).id),
    ['src0', 'demo1', 'synthetic2', 'src3'],
  );
  assert.deepEqual(
    ['synthetic', 'c.jpg'].map((u, i) => parseSourceSpec(u, i).id),
    ['synthetic', 'src1'],
  );
  const s = parseSourceSpec('door=rtsp://cam/1', 1);
  assert.equal(s.id, 'door');
  assert.equal(s.uri, 'rtsp://cam/1');
});

test('file < environment < flags', () => {
  const dir = tempDir();
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ sources: [{ id: 'f', kind: 'demo' }], workers: 3, threads: 2, model: { name: 'yolox-nano', path: '/m.onnx' } }));
  const c = loadConfig({ file, env: { PERCEPT_WORKERS: '4' }, flags: { threads: 1 } });
  assert.equal(c.workers, 4);
  assert.equal(c.threads, 1);
  assert.equal(at(c.sources, 0).id, 'f');
  assert.equal(c.model.path, '/m.onnx');
  const c2 = loadConfig({ file, env: {}, flags: { model: 'blazeface-front' } });
  assert.equal(c2.model.name, 'blazeface-front');
  assert.equal(c2.model.path, undefined, 'a new model does not inherit the old file');
});

test('defaults: the demo when there is no camera, blazeface-back, one worker per core x 1 thread', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.model.name, 'blazeface-back');
  assert.equal(c.workers, Math.min(os.availableParallelism(), 16));
  assert.equal(c.threads, 1);
  assert.deepEqual(c.providers, ['cpu']);
  assert.equal(c.sources.length, 1);
  assert.equal(at(c.sources, 0).kind, 'demo');
  // The cameras the capture layer found (through the V4L2 addon): the first is the default.
  assert.deepEqual(loadConfig({ env: {}, cameras: ['/dev/video2', '/dev/video4'] }).sources, [{ id: 'cam0', kind: 'webcam', uri: '/dev/video2', loop: false }]);
});

test('invalid values are ERR_CONFIG naming the field', () => {
  const check = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => PerceptError.is(e, 'ERR_CONFIG') && re.test((e as Error).message));
  const dir = tempDir();
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ sources: [{ id: 'a', kind: 'demo' }], workers: 0 }));
  check(() => loadConfig({ file }), /workers/);
  fs.writeFileSync(file, JSON.stringify({ sources: [{ id: 'a b', kind: 'demo' }] }));
  check(() => loadConfig({ file }), /sources\.0\.id/);
  fs.writeFileSync(file, JSON.stringify({ sources: [{ id: 'a', kind: 'demo' }], surprise: 1 }));
  check(() => loadConfig({ file }), /surprise/);
  check(() => loadConfig({ env: { PERCEPT_WORKERS: 'lots' } }), /PERCEPT_WORKERS/);
  check(() => loadConfig({ flags: { sources: ['a=demo', 'a=synthetic'] } }), /share the id 'a'/);
  check(() => loadConfig({ flags: { providers: ['gpu'] } }), /providers/);
});
