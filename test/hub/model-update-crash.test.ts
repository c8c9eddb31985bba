// A new model whose inference worker dies in its first 30 s is rolled back at once, even when no
// frame fails (the worker held no job, or its jobs were retried elsewhere), and the report names
// the crash. The worker exit is real: the agent's test-only fault makes the new model's workers
// leave (exit code 4) 3 s after they start; the running model's workers are left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { JSON_HEADERS, startTestHub } from '../helpers/emulator.js';
import { until } from '../helpers/agent.js';
import { modelWindows, startInProcess, testModels } from '../helpers/in-process.js';
import { YOLOX_NANO, image, tempDir } from '../helpers/paths.js';
import { writeZip } from '../../src/models/zip-write.js';
import { publishFile } from '../../src/emulator/files.js';
import type { Agent } from '../../src/agent/agent.js';
import { TRIAL_MS } from '../../src/agent/model-update.js';

type ModelReport = { status: string; sha256: string | null; error: { code: string; message: string } | null; at: string };
type Reported = { percept?: { model?: ModelReport | null } };

const models = testModels('percept-crash-models-');

test('a worker of the new model that dies in its trial rolls it back at once', { timeout: 120_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir('percept-crash-state-');
  const work = tempDir('percept-crash-');
  const packages = path.join(state, 'models') + path.sep;
  let agent: Agent | null = null;
  const { text, stop } = startInProcess(
    hub,
    state,
    { sources: [{ id: 'dog', kind: 'image', uri: image('dog.jpg'), loop: true, fps: 2 }], model: { name: 'yolox-nano', path: YOLOX_NANO } },
    { faultInjection: (m) => (m.path.startsWith(packages) ? { exitAfterMs: 3000 } : false), onStarted: (a) => (agent = a) },
  );
  const report = () => (hub.hub.twin(hub.deviceId).reported as Reported).percept?.model ?? null;
  try {
    await hub.hub.waitForMessages(1, { deviceId: hub.deviceId }, 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${text().slice(-3000)}`);
    });
    fs.writeFileSync(
      path.join(work, 'cv.zip'),
      writeZip([
        { name: 'config.json', data: Buffer.from(JSON.stringify({ DomainType: 's1', ModelFileName: 'model.onnx', LabelFileName: 'labels.txt' })) },
        { name: 'model.onnx', data: fs.readFileSync(path.join(models, 'ssd-customvision.onnx')) },
        { name: 'labels.txt', data: Buffer.from('cat\ndog\nbird\n') },
      ]),
    );
    const p = await publishFile(hub.stateDir, path.join(work, 'cv.zip'));
    const res = await fetch(`${hub.api}/devices/${hub.deviceId}/twin/desired`, {
      method: 'PATCH',
      headers: JSON_HEADERS,
      body: JSON.stringify({ model: { package: { url: hub.hub.fileUrl(p.name), sha256: p.sha256 } } }),
    });
    assert.equal(res.status, 200);
    const active = await until('the package active', () => (report()?.status === 'active' ? report() : null), 60_000);
    const activeAt = Date.now();
    const back = await until(
      'the rollback',
      () => {
        const m = report();
        return m && m.at !== active.at && m.status !== 'active' ? m : null;
      },
      TRIAL_MS + 15_000,
    );
    const after = Date.now() - activeAt;
    assert.equal(back.status, 'rolledBack', JSON.stringify(back));
    assert.equal(back.sha256, p.sha256);
    assert.equal(back.error?.code, 'ERR_PACKAGE_ROLLED_BACK');
    assert.match(back.error.message, /inference worker running the new model died \(exit code 4\)/);
    // At once, not when the 30 s trial ends (the worker dies 3 s after it starts).
    assert.ok(after < TRIAL_MS - 10_000, `rolled back ${after} ms after going active`);
    // YOLOX-Nano runs again: its windows name it.
    const from = hub.hub.messages(hub.deviceId).length;
    await modelWindows(hub, from, 'yolox-nano', 20_000);
    assert.equal((agent as Agent | null)?.modelUpdates?.counts.rolledBack, 1);
    assert.match(text(), /model package rolled back/);
    // The rolled-back package's folder is deleted; YOLOX comes from the configuration, not a package.
    assert.deepEqual(
      fs.readdirSync(path.join(state, 'models')).filter((f) => /^[0-9a-f]{64}/.test(f)),
      [],
    );
  } finally {
    await stop();
    await hub.close();
  }
});
