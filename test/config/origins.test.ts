// Paths in a config file are relative to the file, whatever the working folder; and an error
// about a value names where it came from: the file and key, the environment variable, the flag.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { loadModel } from '../../src/pipeline/model.js';
import { PerceptError } from '../../src/errors.js';
import { jsonLines, runCli } from '../helpers/cli.js';
import { image, ROOT, tempDir, YOLOX_NANO } from '../helpers/paths.js';
import { at as itemAt } from '../helpers/at.js';

const configError = (re: RegExp) => (e: unknown) => PerceptError.is(e, 'ERR_CONFIG') && re.test(e.message);

test('every path in a config file resolves against the file folder', () => {
  const dir = tempDir();
  const file = path.join(dir, 'percept.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      sources: [
        { id: 'pic', kind: 'image', uri: 'pics/dog.jpg', model: { name: 'models/mine.json', path: 'models/m.onnx' } },
        { id: 'dir', kind: 'folder', uri: 'pics' },
        { id: 'cam', kind: 'webcam', uri: '/dev/video3' },
        { id: 'net', kind: 'video', uri: 'http://cam.local/v.mp4' },
      ],
      model: { name: 'yolox-nano', path: 'models/yolox_nano.onnx' },
      hub: {
        connectionString: 'HostName=h;DeviceId=d;SharedAccessKey=a2V5',
        ca: 'certs/ca.pem',
        cert: 'certs/c.pem',
        key: 'certs/k.pem',
        outbox: 'state/outbox.db',
      },
      attest: { keyFile: 'keys/signing.pem' },
      stateDir: 'state',
      modelDirs: ['models', '/opt/models'],
    }),
  );
  assert.notEqual(process.cwd(), dir);
  const c = loadConfig({ file, env: {} });
  const at = (p: string) => path.join(dir, p);
  assert.equal(itemAt(c.sources, 0).uri, at('pics/dog.jpg'));
  assert.equal(itemAt(c.sources, 0).model?.name, at('models/mine.json'));
  assert.equal(itemAt(c.sources, 0).model?.path, at('models/m.onnx'));
  assert.equal(itemAt(c.sources, 1).uri, at('pics'));
  assert.equal(itemAt(c.sources, 2).uri, '/dev/video3');
  assert.equal(itemAt(c.sources, 3).uri, 'http://cam.local/v.mp4', 'a URL is not a path');
  assert.equal(c.model.name, 'yolox-nano', 'a built-in name is not a path');
  assert.equal(c.model.path, at('models/yolox_nano.onnx'));
  assert.deepEqual([c.hub?.ca, c.hub?.cert, c.hub?.key, c.hub?.outbox], [at('certs/ca.pem'), at('certs/c.pem'), at('certs/k.pem'), at('state/outbox.db')]);
  assert.equal(c.attest.keyFile, at('keys/signing.pem'));
  assert.equal(c.stateDir, at('state'));
  assert.deepEqual(c.modelDirs, [at('models'), '/opt/models']);
  // Flags and the environment stay relative to the working folder.
  assert.equal(loadConfig({ file, env: { PERCEPT_STATE_DIR: 'here' }, flags: { modelPath: 'm.onnx' } }).stateDir, 'here');
});

test('percept run with a config file of relative paths works from another folder', async () => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'models'));
  fs.mkdirSync(path.join(dir, 'pics'));
  fs.symlinkSync(YOLOX_NANO, path.join(dir, 'models', 'yolox_nano.onnx'));
  fs.copyFileSync(image('dog.jpg'), path.join(dir, 'pics', 'dog.jpg'));
  fs.writeFileSync(
    path.join(dir, 'percept.json'),
    JSON.stringify({
      sources: [{ id: 'dog', kind: 'image', uri: 'pics/dog.jpg' }],
      model: { name: 'yolox-nano', path: 'models/yolox_nano.onnx' },
      workers: 1,
      stateDir: 'state',
    }),
  );
  assert.notEqual(ROOT, dir);
  const r = await runCli(['run', '--config', path.join(dir, 'percept.json'), '--frames', '1', '--output', 'jsonl', '--no-preview']);
  assert.equal(r.code, 0, r.stderr);
  const results = jsonLines(r.stdout).filter((l) => 'detections' in l) as Array<{ detections: Array<{ label: string }> }>;
  assert.equal(results.length, 1);
  assert.ok(itemAt(results, 0).detections.some((d) => d.label === 'dog'));
});

test('validation errors name the file and key, the environment variable or the flag', () => {
  const dir = tempDir();
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ sources: [{ id: 'a', kind: 'demo' }], workers: 0 }));
  assert.throws(() => loadConfig({ file, env: {} }), configError(new RegExp(`workers: .* \\(from workers in config file ${file.replace(/[.]/g, '\\.')}\\)`)));
  fs.writeFileSync(file, JSON.stringify({ sources: [{ id: 'a', kind: 'demo' }] }));
  assert.throws(() => loadConfig({ file, env: { PERCEPT_SCORE_THRESHOLD: '5' } }), configError(/model\.scoreThreshold: .* \(from PERCEPT_SCORE_THRESHOLD\)/));
  assert.throws(
    () => loadConfig({ file, env: { PERCEPT_SCORE_THRESHOLD: '0.5' }, flags: { scoreThreshold: 7 } }),
    configError(/model\.scoreThreshold: .* \(from --score-threshold\)/),
  );
  assert.throws(() => loadConfig({ file, env: {}, flags: { threads: 100 } }), configError(/threads: .* \(from --threads\)/));
  assert.throws(() => loadConfig({ file, env: { PERCEPT_PROVIDERS: 'gpu' } }), configError(/providers\.0: .* \(from PERCEPT_PROVIDERS\)/));
});

test('a missing model file names its origin, not --model-path', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ sources: [{ id: 'a', kind: 'demo' }], model: { name: 'yolox-nano', path: 'gone.onnx' } }));
  const fromFile = loadConfig({ file, env: {} });
  await assert.rejects(
    loadModel(fromFile.model, fromFile),
    (e: unknown) =>
      PerceptError.is(e, 'ERR_MODEL_NOT_FOUND') &&
      e.message.startsWith(`model.path in config file ${file} ${path.join(dir, 'gone.onnx')}: `) &&
      !e.message.includes('--model-path'),
  );
  const fromEnv = loadConfig({ file, env: { PERCEPT_MODEL_PATH: '/nope/m.onnx' } });
  await assert.rejects(
    loadModel(fromEnv.model, fromEnv),
    (e: unknown) =>
      PerceptError.is(e, 'ERR_MODEL_NOT_FOUND') && /^PERCEPT_MODEL_PATH \/nope\/m\.onnx: .*check the path given with PERCEPT_MODEL_PATH/.test(e.message),
  );
  const fromFlag = loadConfig({ file, env: {}, flags: { modelPath: '/nope/m.onnx' } });
  await assert.rejects(
    loadModel(fromFlag.model, fromFlag),
    (e: unknown) => PerceptError.is(e, 'ERR_MODEL_NOT_FOUND') && /^--model-path \/nope\/m\.onnx: /.test(e.message),
  );
});

test('a CA file that cannot be read names the file key, PERCEPT_CA or --ca', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'c.json');
  const cs = 'HostName=127.0.0.1:1;DeviceId=d;SharedAccessKey=a2V5';
  fs.writeFileSync(file, JSON.stringify({ sources: [{ id: 'a', kind: 'synthetic' }], hub: { connectionString: cs, ca: 'missing-ca.pem' }, stateDir: 'state' }));
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['run', '--frames', '1', '--no-preview', '--output', 'none', ...args], { env });
  const cases: Array<[string[], NodeJS.ProcessEnv, string]> = [
    [['--config', file], {}, `CA certificate (from hub.ca in config file ${file}) ${path.join(dir, 'missing-ca.pem')} cannot be read (ENOENT)`],
    [
      ['--connection-string', cs, '--state-dir', path.join(dir, 's2')],
      { PERCEPT_CA: '/nope/ca.pem' },
      'CA certificate (from PERCEPT_CA) /nope/ca.pem cannot be read (ENOENT)',
    ],
    [
      ['--connection-string', cs, '--state-dir', path.join(dir, 's3'), '--ca', '/nope/ca.pem'],
      { PERCEPT_CA: '/other/ca.pem' },
      'CA certificate (from --ca) /nope/ca.pem cannot be read (ENOENT)',
    ],
  ];
  for (const [args, env, want] of cases) {
    const r = await run(args, env);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /ERR_CONFIG/);
    assert.ok((r.stderr + r.stdout).includes(want), `${want}\n${r.stderr}`);
  }
});
