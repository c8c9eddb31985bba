// The snapshot method: an unknown source is answered 404 at once (not 504 after the timeout),
// and many snapshots at the same time share one frame listener, so Node prints no
// MaxListenersExceededWarning into the JSON logs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestHub } from '../helpers/emulator.js';
import { agentArgs, startAgent, until } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';

test('snapshot: 404 for an unknown source, and concurrent calls leave the logs clean', { timeout: 90_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir();
  const agent = startAgent(agentArgs(hub, state), { stateDir: state });
  try {
    await until('connected', () => hub.hub.isConnected(hub.deviceId), 30_000);
    await hub.hub.waitForMessages(1, { deviceId: hub.deviceId }, 30_000);
    const call = (payload: unknown) => hub.hub.invokeMethod(hub.deviceId, 'snapshot', payload, { timeoutSeconds: 30 });

    // The method's own timeout is 20 s here: a 404 must not wait for it.
    const unknown = await call({ source: 'nope', timeoutMs: 20_000 });
    assert.equal(unknown.status, 404, JSON.stringify(unknown.payload));
    assert.match(JSON.stringify(unknown.payload), /no source 'nope'; sources: dog/);

    const many = await Promise.all(Array.from({ length: 14 }, () => call({ source: 'dog' })));
    assert.deepEqual(
      many.map((r) => r.status),
      Array(14).fill(200),
    );
    const stray = agent
      .stderr()
      .split('\n')
      .filter((l) => l.trim() && !l.trim().startsWith('{'));
    assert.deepEqual(stray, [], 'every log line is JSON');
    assert.doesNotMatch(agent.stderr(), /MaxListenersExceeded/);
    assert.equal(await agent.stop(), 0, agent.stderr());
  } finally {
    await agent.stop();
    await hub.close();
  }
});
