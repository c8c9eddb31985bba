// SAS tokens that expire every 10 s, for 5 minutes of steady telemetry (the issue asks for this
// length; PERCEPT_TOKEN_TEST_SECONDS shortens it by hand). The agent renews each token with a
// planned reconnect before the hub would close the connection: renewals counted, nothing lost.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestHub } from '../helpers/emulator.js';
import { startAgent, until } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { outboxHead, steadyAgentArgs, stoppedHub } from '../helpers/steady-agent.js';
import { account, summary } from '../helpers/ledger.js';
import type { EmulatorLogger } from '../../src/emulator/index.js';

const SECONDS = Number(process.env.PERCEPT_TOKEN_TEST_SECONDS ?? 300);
const TTL = 10;

test(`tokens expiring every ${TTL} s for ${SECONDS} s: renewed in time, none lost`, { timeout: (SECONDS + 120) * 1000 }, async (t) => {
  const events = { connected: 0, expiredCloses: 0 };
  const logger: EmulatorLogger = {
    debug() {},
    warn() {},
    error() {},
    info(_o, msg) {
      if (msg === 'device connected') events.connected++;
      if (msg === 'token expired: closing connection') events.expiredCloses++;
    },
  };
  const hub = await startTestHub({ deviceId: 'token-device', logger });
  const state = tempDir('percept-token-');
  const agent = startAgent(await steadyAgentArgs(hub.connectionString, `${hub.stateDir}/ca.pem`, state, ['--token-ttl', String(TTL)]), { stateDir: state });
  try {
    await until('connected', () => hub.hub.isConnected(hub.deviceId), 30_000);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    type Hub = { tokenRenewals: number; reconnects: number; routineDisconnects: number; outbox: { depth: number } };
    let h: Hub | null = null;
    await until(
      'status and a drained outbox',
      async () => {
        const r = await hub.hub.invokeMethod(hub.deviceId, 'getStatus', null, { timeoutSeconds: 5 }).catch(() => null);
        h = r?.status === 200 ? (r.payload as { hub: Hub }).hub : null;
        return h !== null && h.outbox.depth === 0;
      },
      30_000,
      200,
    );
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(agent.child.exitCode, null, 'the agent kept running');
    assert.equal(await agent.stop(), 0, agent.stderr());
    const head = outboxHead(state)!;
    const a = account(hub.hub.messages(hub.deviceId), new Map([[head.boot, head.seq]]));
    const final = stoppedHub(agent.stderr()) ?? {};
    const s = h as Hub | null;
    t.diagnostic(
      summary(a, {
        seconds,
        tokenTtlS: TTL,
        tokenRenewals: s?.tokenRenewals,
        reconnects: s?.reconnects,
        routineDisconnects: s?.routineDisconnects,
        hubConnections: events.connected,
        hubClosedForExpiry: events.expiredCloses,
        sent: final.sent,
        acknowledged: final.acknowledged,
        retried: final.retried,
      }),
    );
    const expected = Math.floor(seconds / TTL);
    assert.ok(s && s.tokenRenewals >= expected, `a renewal per token lifetime (${s?.tokenRenewals} for ${expected} lifetimes)`);
    assert.ok(s && s.reconnects >= s.tokenRenewals, 'each renewal is a counted reconnect');
    assert.ok(events.connected >= expected, 'the hub saw a fresh connection per token');
    assert.equal(events.expiredCloses, 0, 'every token was renewed before the hub had to close the connection');
    assert.equal(a.lost, 0, `lost: ${a.missing.join(', ')}`);
    assert.equal(a.outOfOrder, 0);
    assert.equal(a.chainBreaks, 0);
    assert.ok(a.accepted >= 15 * SECONDS, `a steady stream (${a.accepted})`);
  } finally {
    await agent.stop();
    await hub.close();
  }
});
