// Over-the-air model update, end to end: an agent runs BlazeFace against the emulator;
// `percept model pack` + `percept hub model publish` (through the emulator's file server and
// API) turn it to YOLOX-Nano with no gap in the telemetry chain; a wrong sha256 then fails,
// reported with its code, while YOLOX keeps running.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { JSON_HEADERS, startTestHub } from '../helpers/emulator.js';
import { startAgent, until } from '../helpers/agent.js';
import { CLI, ROOT, YOLOX_NANO, image, tempDir } from '../helpers/paths.js';
import { account } from '../helpers/ledger.js';
import { freePort } from '../helpers/net.js';
import { parsePrometheus, valueOf } from '../web/prom-parse.js';
import { must } from '../helpers/at.js';

const run = promisify(execFile);

type ModelReport = {
  status: string;
  name: string | null;
  sha256: string | null;
  error: { code: string; message: string } | null;
  previous: { name: string } | null;
};
type Reported = { percept?: { model?: ModelReport | null } };
type Body = { model?: { name: string; sha256: string }; frames: Array<{ detections: Array<{ label: string }> }> };
/** Telemetry windows only: a standalone checkpoint (no frames for a while, as during a swap) names no model. */
const windows = (ms: Array<{ body: unknown }>) => ms.map((m) => m.body as Body).filter((b) => b.model);

test('a published package goes active with no gap in the chain; a wrong sha256 fails and the model keeps running', async () => {
  const hub = await startTestHub();
  const state = tempDir();
  const work = tempDir('percept-pkg-');
  const previewPort = await freePort();
  const agent = startAgent(
    [
      'run',
      '--source',
      `dog=${image('dog.jpg')}`,
      '--loop',
      '--fps',
      '8',
      '--model',
      'blazeface-back',
      '--connection-string',
      hub.connectionString,
      '--ca',
      path.join(hub.stateDir, 'ca.pem'),
      '--state-dir',
      state,
      '--preview-port',
      String(previewPort),
      '--output',
      'none',
    ],
    { stateDir: state },
  );
  const model = () => (hub.hub.twin(hub.deviceId).reported as Reported).percept?.model ?? null;
  try {
    await hub.hub.waitForMessages(2, { deviceId: hub.deviceId }, 30_000);
    assert.equal(windows(hub.hub.messages(hub.deviceId)).at(-1)!.model!.name, 'blazeface-back');

    const pkg = path.join(work, 'pkg.zip');
    const packed = JSON.parse(
      (await run(process.execPath, [CLI, 'model', 'pack', '--manifest', path.join(ROOT, 'models/yolox-nano.json'), '--model', YOLOX_NANO, '-o', pkg])).stdout,
    ) as { sha256: string; size: number };
    assert.match(packed.sha256, /^[0-9a-f]{64}$/);
    const published = JSON.parse(
      (await run(process.execPath, [CLI, 'hub', 'model', 'publish', pkg, '--device', hub.deviceId, '--state', hub.stateDir])).stdout,
    ) as { url: string; sha256: string };
    assert.equal(published.sha256, packed.sha256);
    assert.match(published.url, /^https:\/\/127\.0\.0\.1:\d+\/files\//);

    const active = await until('model active', () => (model()?.status === 'active' ? model() : null), 60_000);
    assert.equal(active.name, 'yolox-nano');
    assert.equal(active.sha256, packed.sha256);
    assert.ok(!active.previous, 'the configured model was no package');
    assert.equal((active as { progress?: number }).progress, undefined, 'no progress once active');
    const running = () => (hub.hub.twin(hub.deviceId).reported as { percept?: { running?: { model?: { name: string } } } }).percept?.running?.model?.name;
    await until('running model reported', () => running() === 'yolox-nano');
    const first = await until(
      'telemetry from the new model',
      () => windows(hub.hub.messages(hub.deviceId)).find((b) => b.model!.name === 'yolox-nano' && b.frames.some((f) => f.detections.length)),
      30_000,
    );
    assert.ok(
      first.frames.some((f) => f.detections.some((d) => d.label === 'dog')),
      'YOLOX labels the dog',
    );

    // A wrong hash: refused with its code, and YOLOX keeps running.
    const res = await fetch(`${hub.api}/devices/${hub.deviceId}/twin/desired`, {
      method: 'PATCH',
      headers: JSON_HEADERS,
      body: JSON.stringify({ model: { package: { sha256: 'ab'.repeat(32) } } }),
    });
    assert.equal(res.status, 200);
    const failed = await until('model failed', () => (model()?.status === 'failed' ? model() : null), 30_000);
    assert.equal(failed.error?.code, 'ERR_PACKAGE_HASH');
    const after = hub.hub.messages(hub.deviceId).length;
    // Windows, not the track events beside them.
    const later = await until(
      'windows of the running model',
      () => {
        const w = windows(hub.hub.messages(hub.deviceId).slice(after));
        return w.length >= 2 ? w : null;
      },
      15_000,
    );
    assert.ok(later.length >= 2);
    for (const b of later) assert.equal(b.model!.name, 'yolox-nano');
    const metrics = parsePrometheus(await (await fetch(`http://127.0.0.1:${previewPort}/metrics`)).text());
    assert.equal(valueOf(metrics, 'percept_model_updates_total', { result: 'active' }), 1);
    assert.equal(valueOf(metrics, 'percept_model_updates_total', { result: 'failed' }), 1);
    assert.equal(valueOf(metrics, 'percept_model_updates_total', { result: 'rolledBack' }), 0);

    assert.equal(await agent.stop(), 0, agent.stderr());
    // Every message of the run arrived, each linked to the one before: the swap left no gap.
    const received = hub.hub.messages(hub.deviceId);
    const last = new Map<string, number>();
    for (const m of received)
      last.set(
        must(m.properties['percept-boot'], 'percept-boot'),
        Math.max(last.get(must(m.properties['percept-boot'], 'percept-boot')) ?? 0, Number(must(m.properties['percept-seq'], 'percept-seq'))),
      );
    const a = account(received, last);
    assert.equal(a.lost, 0, a.missing.join(', '));
    assert.equal(a.chainBreaks, 0);
  } finally {
    await agent.stop();
    await hub.close();
  }
});
