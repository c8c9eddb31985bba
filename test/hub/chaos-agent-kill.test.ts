// The agent is SIGKILLed 20 times mid-stream and started again on the same state folder: no
// message accepted into the outbox is lost (a final clean run drains what was left), and each
// boot's chain starts from the last message the previous boot accepted.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestHub } from '../helpers/emulator.js';
import { startAgent, until } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { outboxHead, steadyAgentArgs, stoppedHub } from '../helpers/steady-agent.js';
import { account, digestOf, summary } from '../helpers/ledger.js';
import { at } from '../helpers/at.js';

const KILLS = 20;

test('20 agent SIGKILLs mid-stream: no accepted message is lost, the chain crosses every boot', { timeout: 240_000 }, async (t) => {
  const hub = await startTestHub({ deviceId: 'kill-device' });
  const state = tempDir('percept-kill-');
  const args = await steadyAgentArgs(hub.connectionString, `${hub.stateDir}/ca.pem`, state);
  const accepted = new Map<string, number>();
  const boots: string[] = [];
  let pendingAtKill = 0;
  const t0 = Date.now();
  try {
    for (let k = 0; k < KILLS; k++) {
      const before = hub.hub.messages(hub.deviceId).length;
      const agent = startAgent(args, { stateDir: state });
      // Mid-stream: some messages of this run have arrived, then a random moment later.
      await until('messages flowing', () => hub.hub.messages(hub.deviceId).length >= before + 5 || agent.child.exitCode !== null, 30_000, 20);
      await new Promise((r) => setTimeout(r, Math.random() * 700));
      assert.equal(agent.child.exitCode, null, agent.stderr());
      agent.child.kill('SIGKILL');
      await agent.exited;
      const head = outboxHead(state)!;
      pendingAtKill += head.depth;
      if (!accepted.has(head.boot)) boots.push(head.boot);
      accepted.set(head.boot, head.seq);
    }
    // A clean run sends what the killed ones left, then stops with everything acknowledged.
    const last = startAgent(args, { stateDir: state });
    await until('the final run streams', () => outboxHead(state)?.boot !== boots.at(-1) && hub.hub.messages(hub.deviceId).length > 0, 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await last.stop(), 0, last.stderr());
    const head = outboxHead(state)!;
    boots.push(head.boot);
    accepted.set(head.boot, head.seq);
    const final = stoppedHub(last.stderr()) ?? {};
    const received = hub.hub.messages(hub.deviceId);
    const a = account(received, accepted);
    t.diagnostic(summary(a, { kills: KILLS, boots: boots.length, pendingAtKills: pendingAtKill, finalRun: final, seconds: (Date.now() - t0) / 1000 }));
    assert.equal(a.lost, 0, `lost: ${a.missing.join(', ')}`);
    assert.equal(a.outOfOrder, 0);
    assert.equal(a.chainBreaks, 0);
    assert.equal(head.depth, 0, 'the final run drained the outbox');
    assert.ok(pendingAtKill > 0, 'some kills left accepted, unacknowledged messages behind');
    // Across boots: each boot's first message points at the previous boot's last accepted one.
    const byId = new Map(received.map((m) => [m.messageId, m]));
    let links = 0;
    for (let i = 1; i < boots.length; i++) {
      const first = byId.get(`${boots[i]}:1`);
      const prevLast = byId.get(`${at(boots, i - 1)}:${accepted.get(at(boots, i - 1))}`);
      if (!first || !prevLast) continue;
      assert.equal(first.properties['percept-prev'], digestOf(prevLast), `boot ${i + 1} continues boot ${i}`);
      links++;
    }
    assert.ok(links >= KILLS - 2, `the chain was checked across ${links} restarts`);
  } finally {
    await hub.close();
  }
});
