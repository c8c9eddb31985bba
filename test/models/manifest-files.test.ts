// The files a manifest brings in: only regular files are opened (a FIFO would block a read
// forever), each under a size cap; `file` and `labelsFile` stay inside the manifest's folder
// or a models folder; no file's text reaches an error message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadManifest } from '../../src/models/index.js';
import { loadModel } from '../../src/pipeline/model.js';
import { FILE_CAPS, readRegularFile, readRegularFileSync } from '../../src/read-file.js';
import { PerceptError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, YOLOX_NANO } from '../helpers/paths.js';

const minimal = { name: 'm', input: { name: 'images', width: 416, height: 416 }, outputs: ['output'], decoder: { type: 'yolox' } };
const is = (code: string, pattern: RegExp) => (e: unknown) => PerceptError.is(e) && e.code === code && pattern.test(e.message);

function fifo(dir: string, name: string): string {
  const p = path.join(dir, name);
  execFileSync('mkfifo', [p]);
  return p;
}

test('a FIFO as manifest, labels file or model is refused at once, with the event loop free', async () => {
  const dir = tempDir();
  // A timer keeps ticking while the loads run: nothing blocks the thread.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    await assert.rejects(loadManifest(fifo(dir, 'pipe.json')), is('ERR_FILE_NOT_REGULAR', /model manifest .*pipe\.json is a FIFO, not a regular file/));
    fs.writeFileSync(path.join(dir, 'labels.json'), JSON.stringify({ ...minimal, labelsFile: 'labels.fifo' }));
    fifo(dir, 'labels.fifo');
    await assert.rejects(loadManifest(path.join(dir, 'labels.json')), is('ERR_FILE_NOT_REGULAR', /labels file .*labels\.fifo is a FIFO/));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ ...minimal, file: 'model.fifo' }));
    fifo(dir, 'model.fifo');
    await assert.rejects(
      loadModel({ name: path.join(dir, 'model.json') }),
      (e: unknown) => PerceptError.is(e) && /model\.fifo/.test(e.message) && /not a (regular )?file/.test(e.message),
    );
    await assert.rejects(
      readRegularFile(path.join(dir, 'model.fifo'), { what: 'model file', maxBytes: FILE_CAPS.model, openCode: 'ERR_MODEL_NOT_FOUND', hint: 'x' }),
      is('ERR_FILE_NOT_REGULAR', /is a FIFO/),
    );
    assert.throws(
      () => readRegularFileSync(dir, { what: 'config file', maxBytes: FILE_CAPS.config, openCode: 'ERR_CONFIG', hint: 'x' }),
      is('ERR_FILE_NOT_REGULAR', /is a folder/),
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(ticks > 0, 'the timer ran');
  } finally {
    clearInterval(timer);
  }
});

test('percept run with a FIFO as manifest exits with the typed error instead of hanging', async () => {
  const dir = tempDir();
  const r = await runCli(['run', '--source', 'synthetic', '--frames', '1', '--model', fifo(dir, 'm.json'), '--no-preview'], { timeoutMs: 60_000 });
  assert.equal(r.signal, null, `killed: ${r.stderr}`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr + r.stdout, /ERR_FILE_NOT_REGULAR/);
});

test('files over the cap of their kind are refused', async () => {
  const dir = tempDir();
  const big = path.join(dir, 'big.json');
  fs.writeFileSync(big, ' '.repeat(FILE_CAPS.manifest + 1));
  await assert.rejects(loadManifest(big), is('ERR_FILE_TOO_LARGE', /model manifest .*big\.json holds 1048577 bytes or more, over the limit of 1048576/));
  fs.writeFileSync(path.join(dir, 'labels.txt'), 'x\n'.repeat(FILE_CAPS.labels / 2 + 1));
  fs.writeFileSync(path.join(dir, 'l.json'), JSON.stringify({ ...minimal, labelsFile: 'labels.txt' }));
  await assert.rejects(loadManifest(path.join(dir, 'l.json')), is('ERR_FILE_TOO_LARGE', /labels file/));
  await assert.rejects(
    readRegularFile(YOLOX_NANO, { what: 'model file', maxBytes: 1000, openCode: 'ERR_MODEL_NOT_FOUND', hint: 'x' }),
    is('ERR_FILE_TOO_LARGE', /over the limit of 1000/),
  );
  assert.equal(
    (await readRegularFile(YOLOX_NANO, { what: 'model file', maxBytes: FILE_CAPS.model, openCode: 'ERR_MODEL_NOT_FOUND', hint: 'x' })).length,
    fs.statSync(YOLOX_NANO).size,
  );
});

test('file and labelsFile stay inside the manifest folder or a models folder', async () => {
  const root = tempDir();
  const dir = path.join(root, 'models');
  const other = path.join(root, 'other');
  fs.mkdirSync(dir);
  fs.mkdirSync(other);
  fs.writeFileSync(path.join(other, 'labels.txt'), 'a\n');
  const write = (extra: object) => {
    const f = path.join(dir, 'm.json');
    fs.writeFileSync(f, JSON.stringify({ ...minimal, ...extra }));
    return f;
  };
  for (const [key, value] of [
    ['labelsFile', '../other/labels.txt'],
    ['labelsFile', '/etc/passwd'],
    ['file', '/etc/passwd'],
    ['file', '../../x.onnx'],
  ] as const) {
    await assert.rejects(
      loadManifest(write({ [key]: value })),
      is('ERR_MANIFEST_INVALID', new RegExp(`${key}: '${value.replace(/[./]/g, '\\$&')}' lies outside the manifest's folder`)),
    );
  }
  // A symbolic link inside the folder that leads out of it is outside too.
  fs.symlinkSync(path.join(other, 'labels.txt'), path.join(dir, 'link.txt'));
  await assert.rejects(loadManifest(write({ labelsFile: 'link.txt' })), is('ERR_MANIFEST_INVALID', /labelsFile: 'link\.txt' lies outside/));
  // A configured models folder is inside.
  const loaded = await loadManifest(write({ labelsFile: '../other/labels.txt' }), { modelDirs: [other] });
  assert.deepEqual(loaded.manifest.labels, ['a']);
});

test('a models folder serves manifests by name; no file text reaches an error', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'mine.json'), JSON.stringify({ ...minimal, name: 'mine', labels: ['x'] }));
  assert.equal((await loadManifest('mine', { modelDirs: [dir] })).manifest.name, 'mine');
  await assert.rejects(loadManifest('mine'), is('ERR_MODEL_NOT_FOUND', /no built-in model 'mine'/));
  // A secret that is not JSON: the error says so without quoting it.
  const secret = path.join(dir, 'secret.json');
  fs.writeFileSync(secret, 'root:x:0:0:root:/root:/bin/bash\n');
  await assert.rejects(
    loadManifest(secret),
    (e: unknown) => PerceptError.is(e, 'ERR_MANIFEST_INVALID') && /not valid JSON/.test(e.message) && !/root:x/.test(e.message),
  );
  if (fs.existsSync('/etc/passwd')) {
    await assert.rejects(loadManifest('/etc/passwd'), (e: unknown) => PerceptError.is(e, 'ERR_MANIFEST_INVALID') && !/root:/.test(e.message));
  }
});
