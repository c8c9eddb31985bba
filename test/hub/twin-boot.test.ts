// Boot order: the agent connects and fetches the twin before it starts the pipeline, so the
// hub's current desired document wins over the saved one; a saved document that is not valid
// (here a finite source, which older versions accepted) is ignored with a warning, never run.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestHub } from '../helpers/emulator.js';
import { agentArgs, startAgent, until } from '../helpers/agent.js';
import { image, tempDir } from '../helpers/paths.js';
import { jsonLines } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';

type Result = { sourceId: string; detections: Array<{ label: string }> };
type Reported = { percept?: { config?: { version: number | null; status: string } } };

function save(state: string, version: number, desired: unknown): void {
  fs.writeFileSync(path.join(state, 'twin-desired.json'), JSON.stringify({ version, desired }));
}

test("at boot the hub's desired document wins over the saved one, from the first frame", { timeout: 120_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir();
  // Saved: only the dog (0.85) passes. The hub now asks for 0.5: car and bicycle (0.82) too.
  save(state, 1, { scoreThreshold: 0.84 });
  const twin = hub.hub.patchDesired(hub.deviceId, { scoreThreshold: 0.5 });
  const agent = startAgent(agentArgs(hub, state, ['--output', 'jsonl', '--frames', '3']), { stateDir: state });
  try {
    assert.equal(await agent.exited, 0, agent.stderr());
    const results = jsonLines(agent.stdout()) as unknown as Result[];
    assert.equal(results.length, 3);
    for (const r of results)
      assert.ok(
        r.detections.some((d) => d.label === 'car'),
        `hub threshold from the first frame: ${JSON.stringify(r.detections)}`,
      );
    const reported = (hub.hub.twin(hub.deviceId).reported as Reported).percept?.config;
    assert.equal(reported?.version, (twin.desired as { $version: number }).$version);
    assert.equal(reported?.status, 'applied');
    const saved = JSON.parse(fs.readFileSync(path.join(state, 'twin-desired.json'), 'utf8')) as { desired: unknown };
    assert.deepEqual(saved.desired, { scoreThreshold: 0.5 }, 'the applied document replaces the saved one');
  } finally {
    await agent.stop();
    await hub.close();
  }
});

test('a saved document with a finite source does not stop the agent at boot, with or without the hub', { timeout: 120_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir();
  const finite = { sources: [{ id: 'x', kind: 'image', uri: image('dog.jpg') }] };
  save(state, 7, finite);
  const agent = startAgent(agentArgs(hub, state), { stateDir: state });
  try {
    await until('a report', () => (hub.hub.twin(hub.deviceId).reported as Reported).percept?.config, 30_000);
    const before = hub.hub.messages(hub.deviceId).length;
    await hub.hub.waitForMessages(before + 3, { deviceId: hub.deviceId }, 15_000);
    assert.equal(agent.child.exitCode, null, `the agent exited: ${agent.stderr()}`);
    assert.match(agent.stderr(), /ignoring the saved twin configuration/);
    assert.equal(await agent.stop(), 0, agent.stderr());
  } finally {
    await agent.stop();
    await hub.close();
  }

  // Hub unreachable: after the bounded wait it runs the command line's source, not the saved one
  // (whose single image would have ended the run after one frame).
  save(state, 7, finite);
  const port = await freePort();
  const cs = hub.connectionString.replace(/localhost:\d+/, `localhost:${port}`);
  const args = agentArgs(hub, state, ['--output', 'jsonl', '--frames', '4']);
  args[args.indexOf('--connection-string') + 1] = cs;
  const offline = startAgent(args, { stateDir: state });
  assert.equal(await offline.exited, 0, offline.stderr());
  const results = jsonLines(offline.stdout()) as unknown as Result[];
  assert.deepEqual(
    results.map((r) => r.sourceId),
    ['dog', 'dog', 'dog', 'dog'],
  );
  assert.match(offline.stderr(), /ignoring the saved twin configuration/);
});

test('a hub document that validates but cannot start (no such model) is reported, and the agent runs on what it had', { timeout: 120_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir();
  const twin = hub.hub.patchDesired(hub.deviceId, { model: { name: 'no-such-model' } });
  const agent = startAgent(agentArgs(hub, state), { stateDir: state });
  try {
    const version = (twin.desired as { $version: number }).$version;
    const c = await until(
      'rejection reported',
      () => {
        const x = (hub.hub.twin(hub.deviceId).reported as { percept?: { config?: { status: string; error: { code: string; version: number } | null } } })
          .percept?.config;
        return x?.status === 'rejected' && x.error?.version === version ? x : null;
      },
      30_000,
    );
    assert.equal(c.error?.code, 'ERR_MODEL_NOT_FOUND');
    await hub.hub.waitForMessages(2, { deviceId: hub.deviceId }, 15_000);
    assert.equal(agent.child.exitCode, null, `the agent exited: ${agent.stderr()}`);
    assert.equal(fs.existsSync(path.join(state, 'twin-desired.json')), false, 'a document that did not start is not saved');
    assert.equal(await agent.stop(), 0, agent.stderr());
  } finally {
    await agent.stop();
    await hub.close();
  }
});

test('a signal while boot waits for an unreachable hub ends the run without starting the pipeline', { timeout: 60_000 }, async () => {
  const state = tempDir();
  const hub = await startTestHub();
  await hub.close();
  const args = agentArgs(hub, state);
  args[args.indexOf('--connection-string') + 1] = hub.connectionString.replace(/localhost:\d+/, `localhost:${await freePort()}`);
  const agent = startAgent(args, { stateDir: state });
  await until('boot waiting for the hub', () => agent.stderr().includes('connecting to the hub for the module twin'));
  assert.equal(await agent.stop(), 0, agent.stderr());
  assert.doesNotMatch(agent.stderr(), /model loaded/, 'nothing started');
});
