// The hub crashes 100 times under a steady ~30 msg/s agent: the emulator process is SIGKILLed
// mid-stream and started again on the same ports. Every accepted message arrives at least once,
// first arrivals in order per source, none lost, and the agent process never restarts.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startHubProcess } from '../helpers/hub-process.js';
import { startAgent, until } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { outboxHead, steadyAgentArgs, stoppedHub } from '../helpers/steady-agent.js';
import { account, summary } from '../helpers/ledger.js';

const CYCLES = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('100 hub kill/restart cycles during a steady run: none lost, in order, one agent process', { timeout: 240_000 }, async (t) => {
  const hub = await startHubProcess();
  const state = tempDir('percept-chaos-');
  const agent = startAgent(await steadyAgentArgs(hub.connectionString, hub.caPath, state, ['--send-timeout', '5000']), { stateDir: state });
  const pid = agent.child.pid;
  try {
    await until('steady telemetry', () => hub.messages().length >= 30, 30_000);
    const t0 = Date.now();
    let connectedCycles = 0;
    for (let i = 0; i < CYCLES; i++) {
      // Up while the agent streams (100-400 ms once connected), then a crash. A loaded machine
      // may take the agent seconds to reconnect; the kill waits for it, up to 5 s.
      const up = Date.now();
      let connected = false;
      while (Date.now() - up < 5000 && !(connected = await hub.connected())) await sleep(25);
      if (connected) connectedCycles++;
      await sleep(100 + Math.random() * 300);
      await hub.kill();
      await sleep(Math.random() * 150);
      await hub.start();
      assert.equal(agent.child.exitCode, null, `the agent is still running after cycle ${i + 1}`);
    }
    const chaosSeconds = (Date.now() - t0) / 1000;
    // Steady again: everything queued during the outages drains.
    let status: { hub: Record<string, unknown> & { outbox: { depth: number } } } | null = null;
    let last: unknown = null;
    await until(
      'outbox drained',
      async () => {
        const r = await hub.invoke('getStatus').catch((e: Error) => ({ status: 0, payload: e.message }));
        last = r;
        status = r.status === 200 ? (r.payload as typeof status) : null;
        return status !== null && status.hub.outbox.depth === 0;
      },
      60_000,
      250,
    ).catch(async (e: Error) => {
      // What the agent was doing: its last answer and its last log lines.
      const tail = agent.stderr().trim().split('\n').slice(-40).join('\n');
      throw new Error(
        `${e.message}\nlast getStatus: ${JSON.stringify(last)}\nthe hub (${hub.stateDir}) received ${hub.messages().length} messages, connected: ${await hub.connected()}\nagent log tail:\n${tail}`,
      );
    });
    assert.equal(agent.child.pid, pid);
    assert.equal(agent.child.exitCode, null, 'the agent process never restarted');
    assert.equal(await agent.stop(), 0, agent.stderr());
    const head = outboxHead(state)!;
    const received = hub.messages().filter((m) => m.deviceId === hub.deviceId);
    const boots = new Set(received.map((m) => m.properties['percept-boot']));
    const a = account(received, new Map([[head.boot, head.seq]]));
    const final = stoppedHub(agent.stderr()) ?? {};
    const h = status!.hub;
    t.diagnostic(
      summary(a, {
        cycles: CYCLES,
        connectedCycles,
        chaosSeconds,
        ratePerS: Math.round((a.accepted / chaosSeconds) * 10) / 10,
        sent: final.sent,
        acknowledged: final.acknowledged,
        retried: final.retried,
        reconnects: final.reconnects,
        timeouts: h.timeouts,
        lastFailure: h.lastFailure,
        deadLettered: final.deadLettered,
        dropped: final.dropped,
      }),
    );
    assert.deepEqual([...boots], [head.boot], 'one boot: the agent never restarted');
    assert.ok(connectedCycles >= CYCLES * 0.9, `the agent was connected when the hub died in most cycles (${connectedCycles})`);
    assert.ok(a.accepted >= 15 * chaosSeconds, `a steady stream (${a.accepted} in ${chaosSeconds} s)`);
    assert.equal(a.lost, 0, `lost: ${a.missing.join(', ')}`);
    assert.equal(a.outOfOrder, 0);
    assert.equal(a.chainBreaks, 0);
    assert.equal(final.deadLettered, 0, 'a crashing hub is not a poison message');
    assert.ok(Number(final.reconnects) >= connectedCycles, 'every crash was a reconnect');
    assert.equal(head.depth, 0);
  } finally {
    await agent.stop();
    await hub.stop();
  }
});
