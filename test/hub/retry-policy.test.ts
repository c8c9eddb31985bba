// Retry decisions come from error codes (CONNACK return codes, socket and TLS codes), not from
// the SDK's error names, which mislead: a refused TCP port reaches us as "UnauthorizedError".
// Backoff is exponential with full jitter, slower for a busy hub and for bad credentials.
import test from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, classify } from '../../src/hub/retry.js';
import { HubLink } from '../../src/hub/link.js';
import { startTestHub } from '../helpers/emulator.js';
import { testLogger, waitFor } from '../helpers/delivery.js';
import { freePort } from '../helpers/net.js';

test('failures are classified by code', () => {
  assert.equal(classify({ connack: 5 }), 'auth');
  assert.equal(classify({ connack: 4 }), 'auth');
  assert.equal(classify({ connack: 3 }), 'busy');
  assert.equal(classify({ connack: 1 }), 'rejected');
  assert.equal(classify({ errno: 'ECONNREFUSED' }), 'network');
  assert.equal(classify({ errno: 'ECONNRESET' }), 'network');
  assert.equal(classify({ errno: 'CERT_HAS_EXPIRED' }), 'tls');
  assert.equal(classify({ errno: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'tls');
  assert.equal(classify(null, true), 'timeout');
  assert.equal(classify(null), 'unknown');
});

test('backoff: exponential, capped, full jitter, slower for busy and auth', () => {
  const top = () => 0.999999;
  const b = (kind: Parameters<typeof backoffMs>[0], n: number) => Math.round(backoffMs(kind, n, [500, 30_000], top));
  assert.deepEqual(
    [0, 1, 2, 3, 10].map((n) => b('network', n)),
    [500, 1000, 2000, 4000, 30_000],
  );
  assert.equal(b('busy', 0), 4000);
  assert.equal(b('auth', 0), 30_000);
  assert.equal(
    backoffMs('network', 5, [500, 30_000], () => 0),
    0,
    'full jitter reaches zero',
  );
  const spread = new Set(Array.from({ length: 50 }, () => Math.round(backoffMs('network', 3, [500, 30_000]) / 100)));
  assert.ok(spread.size > 10, 'delays are spread, not synchronised');
});

test('the link reads the real codes: CONNACK 5 is auth, a refused port is network', { timeout: 30_000 }, async () => {
  const hub = await startTestHub();
  try {
    hub.hub.setFaults({ refuseAuth: true });
    const refused = new HubLink({
      connectionString: hub.connectionString,
      ca: hub.ca,
      transport: 'mqtt',
      output: 'o',
      logger: testLogger(),
      backoffMs: [50, 100],
    });
    void refused.open();
    await waitFor('a failed attempt', () => refused.stats().lastFailure !== null);
    assert.equal(refused.stats().lastFailure, 'auth');
    assert.match(refused.lastError ?? '', /\(5\)$/);
    await refused.close();

    const port = await freePort();
    const down = new HubLink({
      connectionString: hub.connectionString.replace(/localhost:\d+/, `localhost:${port}`),
      ca: hub.ca,
      transport: 'mqtt',
      output: 'o',
      logger: testLogger(),
      backoffMs: [50, 100],
    });
    void down.open();
    await waitFor('a failed attempt', () => down.stats().lastFailure !== null);
    assert.equal(down.stats().lastFailure, 'network');
    assert.match(down.lastError ?? '', /\(ECONNREFUSED\)$/);
    await down.close();

    hub.hub.setFaults({ refuseAuth: false });
    const ok = new HubLink({ connectionString: hub.connectionString, ca: hub.ca, transport: 'mqtt', output: 'o', logger: testLogger() });
    await ok.open();
    assert.equal(ok.state, 'connected');
    await ok.close();
  } finally {
    await hub.close();
  }
});
