// Each kind of bad input gives a typed error whose message says what to do, and the run
// keeps going where it can.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, jsonLines } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { image, tempDir, YOLOX_NANO, ROOT } from '../helpers/paths.js';
import { at } from '../helpers/at.js';

const yolox = ['--model', 'yolox-nano', '--model-path', YOLOX_NANO];

test('a missing model file is ERR_MODEL_NOT_FOUND and names the fix', async () => {
  const r = await runCli(['run', '--source', image('dog.jpg'), '--model', 'yolox-nano', '--model-path', '/nonexistent/model.onnx', '--frames', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_MODEL_NOT_FOUND/);
  assert.match(r.stderr, /--model-path/);
});

test('yolox-nano without --model-path asks for one', async () => {
  const r = await runCli(['run', '--source', image('dog.jpg'), '--model', 'yolox-nano', '--frames', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_MODEL_NOT_FOUND/);
  assert.match(r.stderr, /--model-path/);
});

test('a file that is not ONNX is ERR_MODEL_INVALID', async () => {
  const dir = tempDir();
  const bad = path.join(dir, 'not-a-model.onnx');
  fs.writeFileSync(bad, 'this is not a protobuf\n'.repeat(50));
  const r = await runCli(['run', '--source', image('dog.jpg'), '--model', 'yolox-nano', '--model-path', bad, '--frames', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_MODEL_INVALID/);
  assert.match(r.stderr, /not a valid ONNX model/);
});

test('a manifest that does not match the model is ERR_MANIFEST_MISMATCH at load', async () => {
  const dir = tempDir();
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'yolox-nano.json'), 'utf8')) as {
    name: string;
    input: { name: string; width: number; height: number };
  };
  manifest.name = 'wrong-input';
  manifest.input.name = 'input:0';
  const file = path.join(dir, 'wrong.json');
  fs.writeFileSync(file, JSON.stringify(manifest));
  const r = await runCli(['run', '--source', image('dog.jpg'), '--model', file, '--model-path', YOLOX_NANO, '--frames', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_MANIFEST_MISMATCH/);
  assert.match(r.stderr, /images/, 'names the input the model really has');

  manifest.input.name = 'images';
  manifest.input.width = 320;
  manifest.input.height = 320;
  fs.writeFileSync(file, JSON.stringify(manifest));
  const r2 = await runCli(['run', '--source', image('dog.jpg'), '--model', file, '--model-path', YOLOX_NANO, '--frames', '1']);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /ERR_MANIFEST_MISMATCH/);
  assert.match(r2.stderr, /416/);
});

test('an unreadable source is ERR_SOURCE_UNREADABLE; a readable one beside it keeps running', async () => {
  const r = await runCli(['run', '--source', '/nonexistent/folder', ...yolox, '--frames', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_SOURCE_UNREADABLE/);
  assert.match(r.stderr, /check the path/);

  const r2 = await runCli(['run', '--source', 'bad=/nonexistent/folder', '--source', `good=${image('dog.jpg')}`, ...yolox, '--output', 'jsonl']);
  assert.equal(r2.code, 0, r2.stderr);
  const lines = jsonLines(r2.stdout);
  assert.equal(lines.length, 1);
  assert.equal(at(lines, 0).sourceId, 'good');
  assert.match(r2.stderr, /ERR_SOURCE_UNREADABLE/);
});

/** A source that can never deliver a frame stops the run at once: exit 1, the reason said once, the way on named. */
async function failsAtOnce(source: string, reason: RegExp): Promise<void> {
  const r = await runCli(['run', '--source', source, '--no-preview'], { timeoutMs: 30_000 });
  assert.equal(r.code, 1, `exit code ${r.code} (signal ${r.signal}); stderr: ${r.stderr.slice(-2000)}`);
  assert.equal(r.stderr.match(/ERR_SOURCE_UNREADABLE/g)?.length, 1, `said once: ${r.stderr}`);
  assert.match(r.stderr, reason);
  assert.match(r.stderr, /percept doctor/);
  assert.match(r.stderr, /--source demo/);
  assert.doesNotMatch(r.stderr, /restarting|did not stream MJPEG/, 'not retried');
  assert.equal(
    jsonLines(r.stderr).find((l) => l.msg === 'stopped'),
    undefined,
    'no run summary for a run that never started',
  );
}

test('a refused rtsp:// stream says connection refused at once', async () => {
  await failsAtOnce(`rtsp://127.0.0.1:${await freePort()}/cam`, /connection refused/);
});

test('a missing folder or video file says not found, not "video file"', async () => {
  const dir = tempDir();
  await failsAtOnce(path.join(dir, 'no-such-folder'), /no-such-folder not found \(no such file or folder\)/);
  await failsAtOnce(path.join(dir, 'clip.mp4'), /clip\.mp4 not found/);
});

test('a missing /dev/videoN says no such device', async () => {
  let n = 9;
  while (fs.existsSync(`/dev/video${n}`)) n++;
  await failsAtOnce(`/dev/video${n}`, new RegExp(`no such device /dev/video${n}`));
});

test('corrupt JPEGs in a folder are skipped and counted; the good frames come through', async () => {
  const dir = tempDir();
  const dog = fs.readFileSync(image('dog.jpg'));
  fs.copyFileSync(image('dog.jpg'), path.join(dir, 'a-dog.jpg'));
  fs.writeFileSync(path.join(dir, 'b-truncated.jpg'), dog.subarray(0, Math.floor(dog.length / 3)));
  fs.writeFileSync(path.join(dir, 'c-garbage.jpg'), Buffer.from('\xff\xd8 not really a jpeg at all', 'latin1'));
  fs.copyFileSync(image('astronaut.png'), path.join(dir, 'd-astronaut.png'));
  const r = await runCli(['run', '--source', dir, ...yolox, '--output', 'jsonl']);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  assert.deepEqual(
    lines.map((l) => path.basename(String(l.source))),
    ['a-dog.jpg', 'd-astronaut.png'],
  );
  const logs = jsonLines(r.stderr);
  const corrupt = logs.filter((l) => l.code === 'ERR_FRAME_CORRUPT');
  assert.equal(corrupt.length, 2, 'each corrupt frame is reported once');
  assert.deepEqual(corrupt.map((l) => path.basename(String(l.origin))).sort(), ['b-truncated.jpg', 'c-garbage.jpg'], 'the warning names the file');
  assert.match(String(at(corrupt, 0).msg), /frame \d+ \(.*-(truncated|garbage)\.jpg\)/);
  const stopped = logs.find((l) => l.msg === 'stopped')!;
  assert.equal(stopped.corrupt, 2);
  assert.equal(stopped.failed, 0, 'a corrupt frame is counted once, as corrupt');
  assert.equal(stopped.inferred, 2);
});

test('bad flags and bad config are usage errors (exit 2) with the field named', async () => {
  const r = await runCli(['run', '--workers', 'many']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\[ERR_CONFIG\] workers: expected an integer from 1 to 16 but got 'many' \(from --workers\)/);
  const dir = tempDir();
  const cfg = path.join(dir, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({ sources: [{ id: 'x', kind: 'camera', uri: '/dev/video9' }] }));
  const r2 = await runCli(['run', '--config', cfg]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /ERR_CONFIG/);
  assert.match(r2.stderr, /sources\.0\.kind/);
  fs.writeFileSync(cfg, '{ not json');
  const r3 = await runCli(['run', '--config', cfg]);
  assert.equal(r3.code, 2);
  assert.match(r3.stderr, /not valid JSON/);
});
