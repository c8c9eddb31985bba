// The hub's counters on a real agent's /metrics, driven by the emulator's faults: slow
// acknowledgements count as throttled, held ones as send timeouts, short tokens as renewals and
// reconnects; getStatus reads the same values, and a twin-driven pipeline rebuild continues them.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestHub } from '../helpers/emulator.js';
import { startAgent, until } from '../helpers/agent.js';
import { jsonLines } from '../helpers/cli.js';
import { YOLOX_NANO, image, tempDir } from '../helpers/paths.js';
import { DOG_LOOP, get, memoryLogger } from '../web/helpers.js';
import { Agent } from '../../src/agent/agent.js';
import { parseConfig } from '../../src/config/load.js';
import { parsePrometheus, valueOf } from '../web/prom-parse.js';

type Hub = { reconnects: number; tokenRenewals?: number; timeouts?: number; throttled?: number; acknowledged: number };
type Status = { hub: Hub; pipeline: { frames: { inferred: number } } };
type Reported = { percept?: { config?: { version: number | null; status: string } } };

const COUNTERS = {
  reconnects: 'percept_hub_reconnects_total',
  tokenRenewals: 'percept_hub_token_renewals_total',
  timeouts: 'percept_hub_send_timeouts_total',
  throttled: 'percept_hub_throttled_total',
  acknowledged: 'percept_messages_acknowledged_total',
} as const;

test('without a hub the agent exports the hub series at 0', { timeout: 60_000 }, async () => {
  const { logger, text } = memoryLogger('info');
  const cfg = parseConfig({
    sources: DOG_LOOP,
    model: { name: 'yolox-nano', path: YOLOX_NANO },
    workers: 1,
    threads: 1,
    output: 'none',
    stateDir: tempDir('percept-nohub-'),
    preview: { port: 0 },
  });
  const agent = new Agent(cfg, { logger });
  await agent.start();
  try {
    const port = jsonLines(text()).find((l) => l.msg === 'preview listening')?.port as number;
    const m = parsePrometheus((await get(port, '/metrics')).body);
    assert.equal(agent.status().hub, null, 'no hub');
    for (const name of [
      ...Object.values(COUNTERS),
      'percept_messages_sent_total',
      'percept_messages_retried_total',
      'percept_hub_routine_disconnects_total',
      'percept_hub_send_failures_total',
    ]) {
      assert.equal(m.get(name)?.type, 'counter', `${name} is a counter`);
      assert.equal(valueOf(m, name), 0, `${name} at 0`);
    }
    for (const name of ['percept_hub_connected', 'percept_outbox_depth', 'percept_outbox_bytes', 'percept_outbox_oldest_age_seconds'])
      assert.equal(m.get(name)?.type, 'gauge', `${name} is a gauge`);
    assert.equal(valueOf(m, 'percept_hub_connected'), 0);
    assert.equal(valueOf(m, 'percept_messages_dropped_total', { reason: 'dead_letter' }), 0);
  } finally {
    await agent.stop();
  }
});

test('hub faults reach /metrics and getStatus alike; a pipeline rebuild continues the counters', { timeout: 90_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir('percept-hub-metrics-');
  const config = path.join(state, 'test-config.json');
  fs.writeFileSync(config, JSON.stringify({ hub: { backoffMinMs: 100, backoffMaxMs: 1000 } }));
  // 10 messages a second; tokens of 10 s are renewed about every 8 s (long enough for a connection
  // to outlive the 1.5 s delay on CONNACK and twin replies); a send unacknowledged for 2 s times out.
  const agent = startAgent(
    [
      'run',
      '--config',
      config,
      '--source',
      `dog=${image('dog.jpg')}`,
      '--loop',
      '--fps',
      '8',
      '--model',
      'yolox-nano',
      '--model-path',
      YOLOX_NANO,
      '--workers',
      '1',
      '--connection-string',
      hub.connectionString,
      '--ca',
      path.join(hub.stateDir, 'ca.pem'),
      '--telemetry-interval',
      '100',
      '--token-ttl',
      '10',
      '--send-timeout',
      '2000',
      '--state-dir',
      state,
      '--preview-port',
      '0',
      '--output',
      'none',
    ],
    { stateDir: state },
  );
  try {
    const port = await until(
      'preview listening',
      () => jsonLines(agent.stderr()).find((l) => l.msg === 'preview listening')?.port as number | undefined,
      30_000,
    );
    const scrape = async () => {
      const body = (await get(port, '/metrics')).body;
      try {
        return parsePrometheus(body);
      } catch (e) {
        throw new Error(
          `${(e as Error).message}\n${body
            .split('\n')
            .filter((l) => /nan/i.test(l))
            .join('\n')}`,
        );
      }
    };
    const value = async (name: string) => valueOf(await scrape(), name) ?? -1;
    const status = async () => {
      const r = await hub.hub.invokeMethod(hub.deviceId, 'getStatus', null, { timeoutSeconds: 5 });
      assert.equal(r.status, 200);
      return r.payload as Status;
    };
    await until('connected', () => hub.hub.isConnected(hub.deviceId), 30_000);
    const first = await scrape();
    for (const name of Object.values(COUNTERS)) assert.equal(first.get(name)?.type, 'counter', `${name} is exported`);

    hub.hub.setFaults({ delayMs: 1500 });
    await until('a throttled acknowledgement', async () => (await value(COUNTERS.throttled)) >= 1, 20_000, 250);
    hub.hub.setFaults({ delayMs: 0 });
    hub.hub.setFaults({ stopAcks: true });
    await until('a send timeout', async () => (await value(COUNTERS.timeouts)) >= 1, 20_000, 250);
    hub.hub.setFaults({ stopAcks: false });
    await until('a token renewal', async () => (await value(COUNTERS.tokenRenewals)) >= 1, 20_000, 250);
    // Each forced a new connection, counted once it is made.
    await until('the timeout and the renewal each reconnected', async () => (await value(COUNTERS.reconnects)) >= 2, 20_000, 250);

    // Status and /metrics are one set of counters: a scrape between two status reads lies between them.
    const s1 = await status();
    const m = await scrape();
    const s2 = await status();
    for (const [field, name] of Object.entries(COUNTERS)) {
      const v = valueOf(m, name)!;
      const lo = s1.hub[field as keyof Hub] ?? -1;
      const hi = s2.hub[field as keyof Hub] ?? -1;
      assert.ok(v >= lo && v <= hi, `${name} ${v} within getStatus's ${lo}..${hi}`);
    }

    // A twin change of workers rebuilds the pipeline: its status counts from zero, the series go on.
    const before = await value('percept_frames_inferred_total');
    const version = (hub.hub.patchDesired(hub.deviceId, { workers: 2 }).desired as { $version: number }).$version;
    await until(
      'the rebuild applied',
      () => {
        const c = (hub.hub.twin(hub.deviceId).reported as Reported).percept?.config;
        return c && c.version === version && c.status === 'applied';
      },
      30_000,
    );
    const after = await value('percept_frames_inferred_total');
    assert.ok(after >= before, `inferred did not go backwards: ${before} -> ${after}`);
    await until('the new pipeline inferring', async () => (await status()).pipeline.frames.inferred >= 3, 20_000, 250);
    const rebuilt = (await status()).pipeline.frames.inferred;
    const later = await value('percept_frames_inferred_total');
    assert.ok(later > after && later >= before + rebuilt, `the series continued: ${later} >= ${before} + ${rebuilt}`);
  } finally {
    await agent.stop();
    await hub.close();
  }
});
