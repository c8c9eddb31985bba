// No key, token or connection string reaches a page, an event stream, /metrics, the health
// JSON or a log line, even when the status handed in carries one by mistake.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startPreview } from '../../src/web/index.js';
import type { HubStatus } from '../../src/status.js';
import { get, memoryLogger, startPipeline, statusGetter, streamFor } from './helpers.js';

const KEY = 'c2VjcmV0LWtleS1ub3QtZm9yLXlvdXItZXllcw==';
const SIG = 'Zm9yZ2VkLXNpZ25hdHVyZQ%3D%3D';
const TOKEN = 'preview-token-do-not-leak-42';

// A hub status a careless link could produce: the connection string in the last error and a
// SAS token pasted into the host field.
const hub: HubStatus = {
  state: 'disconnected',
  host: `percept.azure-devices.net?sig=${SIG}`,
  deviceId: 'dk-1',
  auth: 'sas',
  transport: 'mqtt',
  outbox: { depth: 3, bytes: 900, oldestAgeMs: 1200, deadLettered: 0, dropped: {} },
  accepted: 3,
  sent: 2,
  acknowledged: 0,
  retried: 2,
  reconnects: 4,
  lastError: `connect failed for HostName=percept.azure-devices.net;DeviceId=dk-1;SharedAccessKey=${KEY} (SharedAccessSignature sr=x&sig=${SIG}&se=1)`,
  sendRate: 0,
};

test('secrets in the status never reach pages, streams, metrics, health JSON or logs', { timeout: 30_000 }, async () => {
  const log = memoryLogger('debug');
  const pipeline = await startPipeline();
  const preview = await startPreview({
    host: '0.0.0.0',
    port: 0,
    token: TOKEN,
    maxFps: 10,
    logger: log.logger,
    pipeline,
    status: statusGetter(
      () => pipeline,
      () => hub,
    ),
  });
  try {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const served: Record<string, string> = {
      page: (await get(preview.port, '/', { headers: auth })).body,
      metrics: (await get(preview.port, '/metrics', { headers: auth })).body,
      healthz: (await get(preview.port, '/healthz')).body,
      readyz: (await get(preview.port, '/readyz')).body,
      refused: (await get(preview.port, `/metrics?token=${KEY}`)).body,
      missing: (await get(preview.port, '/nowhere', { headers: auth })).body,
    };
    const events = await streamFor(preview.port, `/events?token=${TOKEN}`, 8_000, (b) => b.includes('event: frame') && b.includes('event: status'));
    served.events = events.data.toString();
    assert.match(served.events, /event: status/);
    assert.match(served.events, /"hub":\{"state":"disconnected"/, 'the hub status is shown');
    assert.match(served.events, /SharedAccessKey=\[redacted\]/, 'the error is shown, scrubbed');
    await preview.close();
    served.logs = log.text();
    assert.match(served.logs, /preview request refused/);

    for (const [where, text] of Object.entries(served)) {
      assert.ok(text.length > 0, `${where} has content`);
      for (const secret of [KEY, SIG, TOKEN]) assert.ok(!text.includes(secret), `${where} must not contain ${secret.slice(0, 8)}…`);
    }
  } finally {
    await preview.close();
    await pipeline.stop();
  }
});
