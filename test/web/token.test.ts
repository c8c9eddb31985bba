// Bound beyond loopback (0.0.0.0; the test still connects over 127.0.0.1 only), every route
// but /healthz and /readyz needs the token, by query or Bearer header; refusals are logged
// without it. Without a configured token one is generated and printed once.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startPreview } from '../../src/web/index.js';
import { PerceptError } from '../../src/errors.js';
import { get, memoryLogger, startPipeline, statusGetter, streamFor } from './helpers.js';
import { at } from '../helpers/at.js';

const TOKEN = 'test-token-0123456789abcdef';

test('a 0.0.0.0 bind refuses requests without the token and accepts them with it', { timeout: 30_000 }, async () => {
  const log = memoryLogger('info');
  const pipeline = await startPipeline();
  const preview = await startPreview({
    host: '0.0.0.0',
    port: 0,
    token: TOKEN,
    maxFps: 10,
    logger: log.logger,
    pipeline,
    status: statusGetter(() => pipeline),
  });
  try {
    const port = preview.port;
    assert.equal(preview.token, TOKEN);
    assert.ok(!preview.url.includes(TOKEN), 'the url carries no token');
    for (const path of ['/', '/metrics', '/events', '/stream', '/nowhere']) {
      const r = await get(port, path);
      assert.equal(r.status, 401, `${path} without a token`);
      assert.match(r.headers['www-authenticate'] ?? '', /^Bearer/);
      assert.match((JSON.parse(r.body) as { error: string }).error, /token/);
    }
    assert.equal((await get(port, '/?token=wrong-token-0123456789')).status, 401, 'a wrong token');
    assert.equal((await get(port, '/', { headers: { Authorization: 'Bearer nope' } })).status, 401, 'a wrong Bearer token');
    assert.equal((await get(port, '/', { headers: { Authorization: `Basic ${TOKEN}` } })).status, 401, 'another scheme');

    const page = await get(port, `/?token=${TOKEN}`);
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>percept/);
    assert.ok(!page.body.includes(TOKEN), 'the page does not echo the token');
    assert.equal((await get(port, '/metrics', { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 200);
    const events = await streamFor(port, `/events?token=${TOKEN}`, 5_000, (b) => b.includes('event: status'));
    assert.equal(events.status, 200);
    assert.ok(!events.data.toString().includes(TOKEN));

    // Probes stay open: orchestrators do not hold the token.
    const h = await get(port, '/healthz');
    assert.ok(h.status === 200 || h.status === 503, `healthz answered ${h.status}`);
    assert.ok('status' in JSON.parse(h.body));
    assert.ok([200, 503].includes((await get(port, '/readyz')).status));

    const logs = log.text();
    assert.match(logs, /preview request refused/);
    assert.ok(!logs.includes(TOKEN), 'no log line holds the token');
    assert.ok(!logs.includes('wrong-token'), 'nor a wrong one');
  } finally {
    await preview.close();
    await pipeline.stop();
  }
});

test('without a configured token a non-loopback bind generates one and prints it once', { timeout: 30_000 }, async () => {
  const log = memoryLogger('debug');
  const pipeline = await startPipeline();
  const preview = await startPreview({ host: '0.0.0.0', port: 0, maxFps: 10, logger: log.logger, pipeline, status: statusGetter(() => pipeline) });
  try {
    const token = preview.token;
    assert.ok(token && token.length >= 24, 'a generated token');
    assert.equal((await get(preview.port, '/')).status, 401);
    assert.equal((await get(preview.port, '/', { headers: { Authorization: `Bearer ${token}` } })).status, 200);
    await get(preview.port, `/metrics?token=${token}`);
    const lines = log.text().trim().split('\n');
    const carrying = lines.filter((l) => l.includes(token));
    assert.equal(carrying.length, 1, 'exactly one line carries the generated token');
    assert.match(at(carrying, 0), /Authorization: Bearer/);
  } finally {
    await preview.close();
    await pipeline.stop();
  }
});

test('loopback without a token is open to local names and refuses a foreign Host header', { timeout: 30_000 }, async () => {
  const log = memoryLogger('info');
  const pipeline = await startPipeline();
  const preview = await startPreview({ host: '127.0.0.1', port: 0, maxFps: 10, logger: log.logger, pipeline, status: statusGetter(() => pipeline) });
  try {
    assert.equal(preview.token, undefined);
    assert.equal((await get(preview.port, '/')).status, 200);
    assert.equal((await get(preview.port, '/', { headers: { Host: `localhost:${preview.port}` } })).status, 200);
    // A DNS-rebinding page would arrive with its own host name.
    assert.equal((await get(preview.port, '/', { headers: { Host: `evil.example:${preview.port}` } })).status, 421);
  } finally {
    await preview.close();
    await pipeline.stop();
  }
});

test('a bad port is a typed error', async () => {
  const { logger } = memoryLogger();
  const pipeline = { on: () => undefined, off: () => undefined };
  await assert.rejects(
    startPreview({ host: '127.0.0.1', port: 70000, maxFps: 10, logger, pipeline, status: () => assert.fail('not called') }),
    (e: unknown) => PerceptError.is(e, 'ERR_PREVIEW') && /port/.test(e.message),
  );
});
