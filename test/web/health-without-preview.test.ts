// /healthz, /readyz and /metrics do not depend on the preview page: with the preview disabled
// (PERCEPT_PREVIEW=false, as a module's environment sets it) the port still answers them and
// the image's own HEALTHCHECK, run as the Dockerfile has it, passes on the configured port;
// the twin switching the page off and on never interrupts /healthz.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startTestHub } from '../helpers/emulator.js';
import { agentArgs, until } from '../helpers/agent.js';
import { startCli } from '../helpers/cli.js';
import { finalStage } from '../helpers/dockerfile.js';
import { freePort } from '../helpers/net.js';
import { YOLOX_NANO, image, tempDir } from '../helpers/paths.js';
import { get } from './helpers.js';

type Reported = { percept?: { config?: { version: number | null; status: string } } };

/** The Dockerfile's HEALTHCHECK command run here with `env` (its `node` is this Node.js); its exit code. */
function healthcheck(env: Record<string, string>): number | null {
  const [cmd, ...args] = finalStage().healthcheck;
  assert.equal(cmd, 'node', 'the health check runs node');
  return spawnSync(process.execPath, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 15_000 }).status;
}

test('with the preview disabled the port serves /healthz, /readyz and /metrics, not the page; the HEALTHCHECK follows the port', async () => {
  const port = await freePort();
  const env = { PERCEPT_PREVIEW: 'false', PERCEPT_PREVIEW_PORT: String(port) };
  const agent = startCli(
    [
      'run',
      '--source',
      `dog=${image('dog.jpg')}`,
      '--loop',
      '--fps',
      '5',
      '--model',
      'yolox-nano',
      '--model-path',
      YOLOX_NANO,
      '--workers',
      '1',
      '--output',
      'none',
    ],
    { env, timeoutMs: 90_000 },
  );
  try {
    await until('/healthz ok', async () => (await get(port, '/healthz').catch(() => null))?.body.includes('"ok"'), 30_000);
    assert.equal((await get(port, '/readyz')).status, 200);
    const metrics = await get(port, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /percept_frames_inferred_total \d/);
    for (const path of ['/', '/events', '/stream', '/recent-events']) {
      const r = await get(port, path);
      assert.equal(r.status, 404, `${path} is not served with the preview disabled`);
      assert.match(r.body, /preview is disabled/);
    }
    assert.match(agent.stderr, /health and metrics listening \(the preview page is disabled\)/);
    // The image's health check, with the container's environment: passes on this port, and
    // fails where nothing answers (so it checks something).
    assert.equal(healthcheck(env), 0, 'HEALTHCHECK on the configured port');
    assert.equal(healthcheck({ ...env, PERCEPT_PREVIEW_PORT: String(await freePort()) }), 1, 'HEALTHCHECK where nothing listens');
  } finally {
    agent.killGroup();
    await agent.done;
  }
});

test('the twin switching the preview page on and off keeps /healthz answering throughout', async () => {
  const hub = await startTestHub();
  const state = tempDir();
  const port = await freePort();
  // agentArgs disables the preview; the twin turns the page on, then off again.
  const agent = startCli([...agentArgs(hub, state, ['--preview-port', String(port)])], { timeoutMs: 120_000 });
  const failures: string[] = [];
  let polls = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const r = await get(port, '/healthz').catch((e: Error) => ({ status: 0, body: e.message }));
      polls++;
      if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
      await new Promise((res) => setTimeout(res, 25));
    }
  })();
  const applied = (version: number) =>
    until(`desired $version ${version} applied`, () => {
      const c = (hub.hub.twin(hub.deviceId).reported as Reported).percept?.config;
      return c?.version === version && c.status === 'applied';
    });
  try {
    await until('/healthz ok', async () => (await get(port, '/healthz').catch(() => null))?.status === 200, 30_000);
    failures.length = 0; // before the first answer the agent was still starting
    await until('initial report', () => (hub.hub.twin(hub.deviceId).reported as Reported).percept?.config);
    assert.equal((await get(port, '/')).status, 404, 'no page before the twin enables it');

    const on = hub.hub.patchDesired(hub.deviceId, { preview: { enabled: true } });
    await applied((on.desired as { $version: number }).$version);
    const page = await get(port, '/');
    assert.equal(page.status, 200, 'the twin enabled the page');
    assert.match(page.headers['content-type'] ?? '', /text\/html/);

    const off = hub.hub.patchDesired(hub.deviceId, { preview: { enabled: false } });
    await applied((off.desired as { $version: number }).$version);
    assert.equal((await get(port, '/')).status, 404, 'the twin disabled the page');
    await new Promise((res) => setTimeout(res, 500));
    assert.equal((await get(port, '/healthz')).status, 200);
  } finally {
    polling = false;
    await poller;
    agent.killGroup();
    await agent.done;
    await hub.close();
  }
  assert.ok(polls > 10, `polled /healthz ${polls} times`);
  assert.deepEqual(failures, [], '/healthz answered 200 through both changes');
});
