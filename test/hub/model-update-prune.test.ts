// What stays in <state>/models/: stray package folders and partial files go at start; when the
// twin drops the package, the package before it goes too; and a boot where no configuration
// naming the active package can start keeps that package installed and reports why it is not
// running, instead of quietly forgetting it. A stop asked for during a new model's trial does not
// count against it: the package stays, and the rest of the trial runs after the next start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startTestHub, type TestHub } from '../helpers/emulator.js';
import { until } from '../helpers/agent.js';
import { modelWindows, startInProcess, testModels } from '../helpers/in-process.js';
import { ROOT, YOLOX_NANO, tempDir } from '../helpers/paths.js';
import { writeZip } from '../../src/models/zip-write.js';
import { buildPackage } from '../../src/models/package.js';
import { publishFile } from '../../src/emulator/files.js';
import { TRIAL_MS } from '../../src/agent/model-update.js';

type ModelReport = { status: string; name: string | null; sha256: string | null; error: { code: string; message: string } | null };
type Reported = { percept?: { model?: ModelReport | null } };

const models = testModels('percept-prune-models-');

/** Package folders and partial files in <state>/models/. */
function contents(state: string): string[] {
  return fs
    .readdirSync(path.join(state, 'models'))
    .filter((f) => /^[0-9a-f]{64}(\.part)?$/.test(f))
    .sort();
}

async function publish(hub: TestHub, work: string, name: string, zip: Buffer): Promise<{ url: string; sha256: string }> {
  fs.writeFileSync(path.join(work, name), zip);
  const p = await publishFile(hub.stateDir, path.join(work, name));
  return { url: hub.hub.fileUrl(p.name), sha256: p.sha256 };
}

const report = (hub: TestHub) => (hub.hub.twin(hub.deviceId).reported as Reported).percept?.model ?? null;

const cvZip = () =>
  writeZip([
    { name: 'config.json', data: Buffer.from(JSON.stringify({ DomainType: 's1', ModelFileName: 'model.onnx', LabelFileName: 'labels.txt' })) },
    { name: 'model.onnx', data: fs.readFileSync(path.join(models, 'ssd-customvision.onnx')) },
    { name: 'labels.txt', data: Buffer.from('cat\ndog\nbird\n') },
  ]);
const yoloxZip = () => buildPackage({ manifestPath: path.join(ROOT, 'models/yolox-nano.json'), modelPath: YOLOX_NANO }).zip;

test('stray packages go at start; dropping the package deletes the one before it', { timeout: 150_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir('percept-prune-');
  const work = tempDir('percept-prune-work-');
  const stray = crypto.randomBytes(32).toString('hex');
  const strayPart = crypto.randomBytes(32).toString('hex');
  fs.mkdirSync(path.join(state, 'models', stray), { recursive: true });
  fs.writeFileSync(path.join(state, 'models', stray, 'model.onnx'), 'old');
  fs.writeFileSync(path.join(state, 'models', `${strayPart}.part`), 'half');
  const agent = startInProcess(hub, state);
  try {
    await hub.hub.waitForMessages(1, { deviceId: hub.deviceId }, 30_000);
    assert.deepEqual(contents(state), [], 'the stray folder and partial file are gone at start');

    const cv = await publish(hub, work, 'cv.zip', cvZip());
    hub.hub.patchDesired(hub.deviceId, { model: { package: cv } });
    await until('the first package active', () => report(hub)?.status === 'active' && report(hub)?.sha256 === cv.sha256, 60_000);
    const yolox = await publish(hub, work, 'yolox.zip', yoloxZip());
    hub.hub.patchDesired(hub.deviceId, { model: { package: yolox } });
    await until('the second package active', () => report(hub)?.status === 'active' && report(hub)?.sha256 === yolox.sha256, 60_000);
    assert.deepEqual(contents(state), [cv.sha256, yolox.sha256].sort(), 'the active and the previous package');

    hub.hub.patchDesired(hub.deviceId, { model: { package: null } });
    const from = hub.hub.messages(hub.deviceId).length;
    await modelWindows(hub, from, 'blazeface-back', 30_000);
    assert.deepEqual(contents(state), [yolox.sha256], 'only the package that was active stays, as the previous one');
  } finally {
    await agent.stop();
    await hub.close();
  }
});

test('a boot where the configuration naming the package cannot start keeps the package and says so', { timeout: 150_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir('percept-keep-');
  const work = tempDir('percept-keep-work-');
  let agent = startInProcess(hub, state);
  const yolox = await publish(hub, work, 'yolox.zip', yoloxZip());
  try {
    await hub.hub.waitForMessages(1, { deviceId: hub.deviceId }, 30_000);
    hub.hub.patchDesired(hub.deviceId, { model: { package: yolox } });
    await until('the package active', () => report(hub)?.status === 'active' && report(hub)?.sha256 === yolox.sha256, 60_000);
    // Past its trial: a restart now is not blamed on it.
    const stateFile = path.join(state, 'models', 'state.json');
    await until('the trial over', () => (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { trial: unknown }).trial === null, TRIAL_MS + 15_000, 500);
    await agent.stop();
    // The installed model file is damaged: neither the hub's document nor the saved one starts.
    const dir = path.join(state, 'models', yolox.sha256);
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.onnx'))) fs.writeFileSync(path.join(dir, f), 'not a model any more');
    const from = hub.hub.messages(hub.deviceId).length;
    agent = startInProcess(hub, state);
    const failed = await until('the report', () => (report(hub)?.status === 'failed' ? report(hub) : null), 60_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(report(hub))}\n${agent.text().slice(-3000)}`);
    });
    assert.equal(failed.sha256, yolox.sha256);
    assert.ok(failed.error?.code, JSON.stringify(failed));
    assert.match(failed.error.message, /installed but not running/);
    // Windows of the configuration's own model.
    await modelWindows(hub, from, 'blazeface-back', 30_000);
    const saved = JSON.parse(fs.readFileSync(path.join(state, 'models', 'state.json'), 'utf8')) as { active: { sha256: string } | null };
    assert.equal(saved.active?.sha256, yolox.sha256, 'the package is still the active one');
    assert.deepEqual(contents(state), [yolox.sha256]);
  } finally {
    await agent.stop();
    await hub.close();
  }
});

test('a stop asked for during the trial keeps the package: the next start runs the rest of the trial', { timeout: 150_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir('percept-pause-');
  const work = tempDir('percept-pause-work-');
  type Saved = { trial: { sha256: string; since: number; pausedAfterMs?: number } | null };
  const saved = () => JSON.parse(fs.readFileSync(path.join(state, 'models', 'state.json'), 'utf8')) as Saved;
  let agent = startInProcess(hub, state);
  const yolox = await publish(hub, work, 'yolox.zip', yoloxZip());
  try {
    await hub.hub.waitForMessages(1, { deviceId: hub.deviceId }, 30_000);
    hub.hub.patchDesired(hub.deviceId, { model: { package: yolox } });
    await until('the package active', () => report(hub)?.status === 'active' && report(hub)?.sha256 === yolox.sha256, 60_000);
    await agent.stop();
    const paused = saved().trial;
    assert.equal(paused?.sha256, yolox.sha256, 'stopped within the trial');
    assert.ok(paused.pausedAfterMs !== undefined && paused.pausedAfterMs < TRIAL_MS, JSON.stringify(paused));

    const from = hub.hub.messages(hub.deviceId).length;
    agent = startInProcess(hub, state);
    await modelWindows(hub, from, 'yolox-nano', 60_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(report(hub))}\n${agent.text().slice(-3000)}`);
    });
    assert.equal(report(hub)?.status, 'active');
    assert.equal(report(hub)?.sha256, yolox.sha256);
    assert.match(agent.text(), /trial goes on after the restart/);
    // No pause stays on record: a death from now on is blamed on the model again.
    assert.equal(saved().trial?.pausedAfterMs, undefined);
    await until('the rest of the trial over', () => saved().trial === null, TRIAL_MS + 15_000, 500);
    assert.equal(report(hub)?.status, 'active');
  } finally {
    await agent.stop();
    await hub.close();
  }
});
