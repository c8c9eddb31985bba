// Basic hardening: GET and HEAD only, nosniff and a strict CSP whose hashes match the page's
// inline blocks, JSON 404s (no files, nothing to traverse), bounded stream clients, and a
// broken status getter (or metrics collector) that fails requests rather than the agent.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startPreview } from '../../src/web/index.js';
import { get, memoryLogger, startPipeline, statusGetter, streamFor } from './helpers.js';

test('only GET/HEAD, hardened headers, a CSP matching the inline blocks, no files', { timeout: 30_000 }, async () => {
  const { logger } = memoryLogger('info');
  const pipeline = await startPipeline();
  const good = statusGetter(() => pipeline);
  let broken = false;
  const status = () => (broken ? assert.fail('status getter broken') : good());
  const preview = await startPreview({ host: '127.0.0.1', port: 0, maxFps: 10, logger, pipeline, status, maxClients: 1 });
  // A component whose figures cannot be read (a closed database under a collect hook).
  pipeline.metrics.onCollect(() => (broken ? assert.fail('collector broken') : undefined));
  try {
    const port = preview.port;
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']) {
      const r = await get(port, '/', { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
    const page = await get(port, '/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    const csp = String(page.headers['content-security-policy'] ?? '');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    // Every inline block is allowed by its hash, and nothing else is inline.
    const blocks = [...page.body.matchAll(/<(script|style)>([\s\S]*?)<\/\1>/g)];
    assert.equal(blocks.length, 2);
    for (const [, , body = ''] of blocks) assert.ok(csp.includes(`'sha256-${crypto.createHash('sha256').update(body).digest('base64')}'`));
    assert.doesNotMatch(page.body, /<script src|<link rel="stylesheet"|(src|href)="https?:|url\(|@import/, 'nothing fetched from elsewhere');

    const headPage = await get(port, '/', { method: 'HEAD' });
    assert.equal(headPage.status, 200);
    assert.equal(headPage.body, '');
    for (const path of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/index.html', '/dist/src/cli.js', '//etc/passwd']) {
      const r = await get(port, path);
      assert.equal(r.status, 404, path);
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
      assert.doesNotMatch(r.body, /root:/);
    }

    // maxClients: 1 — a second stream is turned away while the first is open.
    const first = streamFor(port, '/stream', 1500);
    await new Promise((r) => setTimeout(r, 300));
    const second = await get(port, '/events');
    assert.equal(second.status, 503);
    assert.equal(second.headers['retry-after'], '5');
    assert.equal((await first).status, 200);

    // A failing status getter or metrics collector costs the request, not the process.
    broken = true;
    assert.equal((await get(port, '/healthz')).status, 500);
    assert.equal((await get(port, '/metrics')).status, 500);
    const ticks = await streamFor(port, '/events', 1300);
    assert.equal(ticks.status, 200);
    assert.doesNotMatch(ticks.data.toString(), /event: status/);
    broken = false;
    assert.equal((await get(port, '/healthz')).status, 200);
  } finally {
    await preview.close();
    await pipeline.stop();
  }
});
