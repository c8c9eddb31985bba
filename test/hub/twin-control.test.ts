// The module twin as control plane: a desired change of interval and threshold takes effect
// within one window and is reported with its $version; a malformed desired document is
// rejected whole and reported while telemetry keeps flowing (a model named by path among them,
// without quoting the file); the applied configuration
// survives a restart that happens offline.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestHub } from '../helpers/emulator.js';
import { agentArgs, startAgent, until } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { at } from '../helpers/at.js';

type Reported = {
  percept?: {
    config?: { version: number | null; status: string; error: { code: string; message: string; version: number } | null };
    running?: { telemetry?: { intervalMs: number }; thresholds?: { scoreThreshold: number | null } };
  };
};
/** Window messages (track events, sent beside them by default, have no frames). */
const isWindow = (m: { properties: Record<string, string> }) => m.properties.schema === 'percept.detections/1';
type Body = { window: { intervalMs: number }; frames: Array<{ detections: Array<{ label: string; confidence: number }> }> };

test('desired interval and threshold apply live and are reported with $version; bad documents are rejected', async () => {
  const hub = await startTestHub();
  const state = tempDir();
  const agent = startAgent(agentArgs(hub, state, ['--telemetry-interval', '1000']), { stateDir: state });
  let stopped = false;
  try {
    await hub.hub.waitForMessages(2, { deviceId: hub.deviceId }, 30_000);
    // The initial report arrives once connected.
    await until('initial report', () => (hub.hub.twin(hub.deviceId).reported as Reported).percept?.config);

    // dog 0.85, car 0.82, bicycle 0.82: a threshold of 0.84 keeps the dog alone.
    const twin = hub.hub.patchDesired(hub.deviceId, { telemetry: { intervalMs: 400 }, scoreThreshold: 0.84 });
    const version = (twin.desired as { $version: number }).$version;
    const applied = await until('reported $version', () => {
      const c = (hub.hub.twin(hub.deviceId).reported as Reported).percept?.config;
      return c && c.version === version && c.status === 'applied' ? c : null;
    });
    assert.ok(!applied.error, 'a null error clears the previous one');
    const t0 = Date.now();
    const later = await until(
      'a window with the new settings',
      () => {
        const ms = hub.hub.messages(hub.deviceId).filter((m) => Date.parse(m.enqueuedTime) >= t0 && isWindow(m));
        return ms.find((m) => (m.body as Body).window.intervalMs === 400 && (m.body as Body).frames.length > 0) ?? null;
      },
      10_000,
    );
    // Within one old window (1 s) of the report, windows are 400 ms and carry only the dog.
    assert.ok(Date.parse(later.enqueuedTime) - t0 <= 2500, 'took effect within one window');
    // Frames already in a worker when the patch came keep the old threshold: from the next
    // window on, only the dog.
    const tail = await until(
      'two more windows',
      () => {
        const t = hub.hub.messages(hub.deviceId).filter((m) => m.seq > later.seq && isWindow(m));
        return t.length >= 2 ? t : null;
      },
      5000,
    );
    assert.ok(tail.length >= 2);
    for (const m of tail) {
      for (const f of (m.body as Body).frames)
        assert.deepEqual(
          f.detections.map((d) => d.label),
          ['dog'],
        );
    }
    const reported = hub.hub.twin(hub.deviceId).reported as Reported;
    assert.equal(reported.percept?.running?.telemetry?.intervalMs, 400);
    assert.equal(reported.percept?.running?.thresholds?.scoreThreshold, 0.84);

    // A malformed document: rejected whole, reported, and telemetry keeps flowing.
    const bad = hub.hub.patchDesired(hub.deviceId, { workers: 'many', telemetry: { intervalMs: 50 } });
    const badVersion = (bad.desired as { $version: number }).$version;
    const rejected = await until('rejection reported', () => {
      const c = (hub.hub.twin(hub.deviceId).reported as Reported).percept?.config;
      return c && c.status === 'rejected' && c.error?.version === badVersion ? c : null;
    });
    assert.equal(rejected.error?.code, 'ERR_CONFIG');
    assert.match(rejected.error.message, /workers/);
    const before = hub.hub.messages(hub.deviceId).length;
    await hub.hub.waitForMessages(before + 3, { deviceId: hub.deviceId }, 10_000);
    const last = hub.hub.messages(hub.deviceId).at(-1)!;
    assert.equal((last.body as Body).window.intervalMs, 400, 'the rejected document changed nothing');

    // A model named by path: the twin names models, it never reads a file of the system, and
    // the rejection quotes nothing of it.
    const passwd = hub.hub.patchDesired(hub.deviceId, { workers: null, model: { name: '/etc/passwd' } });
    const passwdVersion = (passwd.desired as { $version: number }).$version;
    const refused = await until('model path rejected', () => {
      const c = (hub.hub.twin(hub.deviceId).reported as Reported).percept?.config;
      return c && c.status === 'rejected' && c.error?.version === passwdVersion ? c : null;
    });
    assert.equal(refused.error?.code, 'ERR_CONFIG');
    assert.match(refused.error.message, /model\.name: a model name .*not a path/);
    assert.doesNotMatch(refused.error.message, /root:|\/bin\//);
    assert.doesNotMatch(agent.stdout() + agent.stderr(), /root:x/);

    // Fix it: the next valid patch applies.
    hub.hub.patchDesired(hub.deviceId, { model: null, telemetry: { intervalMs: 700 } });
    await until('recovered', () => (hub.hub.twin(hub.deviceId).reported as Reported).percept?.config?.status === 'applied');
    assert.equal(await agent.stop(), 0, agent.stderr());
    stopped = true;
  } finally {
    if (!stopped) await agent.stop();
    await hub.close();
  }

  // Restart with the hub unreachable: the agent runs as it was last told.
  const offline = startAgent(
    [
      'run',
      '--source',
      `dog=${at(agentArgs(hub, state), 2).slice(4)}`,
      '--loop',
      '--fps',
      '5',
      '--model',
      'yolox-nano',
      '--model-path',
      at(agentArgs(hub, state), 9),
      '--connection-string',
      hub.connectionString,
      '--ca',
      `${hub.stateDir}/ca.pem`,
      '--state-dir',
      state,
      '--no-preview',
      '--output',
      'jsonl',
      '--frames',
      '3',
    ],
    { stateDir: state },
  );
  assert.equal(await offline.exited, 0, offline.stderr());
  for (const line of offline.stdout().trim().split('\n')) {
    const r = JSON.parse(line) as { detections: Array<{ label: string }> };
    assert.deepEqual(
      r.detections.map((d) => d.label),
      ['dog'],
      'the saved threshold applies offline',
    );
  }
});
