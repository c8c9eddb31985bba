// A model download that fails on the network is tried again with backoff, with no twin change:
// the server drops the connection after 1 MiB, then answers 503 (reported as `failed`, the
// partial file kept); once it is back, the next attempt resumes with Range from where the file
// ends, and the package goes active, its model loaded once. A restart tries such a download again
// at once, resumed too.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import { startTestHub, type TestHub } from '../helpers/emulator.js';
import { until } from '../helpers/agent.js';
import { startInProcess } from '../helpers/in-process.js';
import { ROOT, YOLOX_NANO, tempDir } from '../helpers/paths.js';
import { buildPackage } from '../../src/models/package.js';
import { retryBackoff } from '../../src/agent/model-update.js';

type ModelReport = { status: string; name: string | null; error: { code: string; message: string } | null };
type Reported = { percept?: { model?: ModelReport | null } };

/**
 * An HTTPS server (trusted through the hub's CA) for `pkg`: its first request gets 1 MiB and a
 * dropped connection; then it answers 503 until `up()`, and then serves from any Range.
 */
async function flakyServer(hub: TestHub, pkg: ReturnType<typeof buildPackage>) {
  const requests: Array<string | undefined> = [];
  const sockets = new Set<net.Socket>();
  let phase: 'drop' | 'down' | 'up' = 'drop';
  const server = https.createServer(
    { key: fs.readFileSync(path.join(hub.stateDir, 'server-key.pem')), cert: fs.readFileSync(path.join(hub.stateDir, 'server-cert.pem')) },
    (req, res) => {
      requests.push(req.headers.range);
      if (phase === 'down') return void res.writeHead(503).end('busy');
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = m ? Number(m[1]) : 0;
      res.writeHead(m ? 206 : 200, {
        'content-length': String(pkg.size - start),
        ...(m ? { 'content-range': `bytes ${start}-${pkg.size - 1}/${pkg.size}` } : {}),
      });
      if (phase === 'drop') {
        phase = 'down';
        res.write(pkg.zip.subarray(0, 1024 * 1024), () => setTimeout(() => req.socket.destroy(), 50));
      } else res.end(pkg.zip.subarray(start));
    },
  );
  server.on('connection', (s: net.Socket) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(server.address() as net.AddressInfo).port}/pkg.zip`,
    requests,
    up: () => (phase = 'up'),
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

const report = (hub: TestHub) => (hub.hub.twin(hub.deviceId).reported as Reported).percept?.model ?? null;
const yolox = () => buildPackage({ manifestPath: path.join(ROOT, 'models/yolox-nano.json'), modelPath: YOLOX_NANO });

test('a download failing on the network is retried and resumed without a twin change', { timeout: 120_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir('percept-retry-');
  const pkg = yolox();
  const server = await flakyServer(hub, pkg);
  const part = path.join(state, 'models', `${pkg.sha256}.part`);
  const saved = { ...retryBackoff };
  retryBackoff.minMs = 1500;
  const agent = startInProcess(hub, state);
  try {
    await hub.hub.waitForMessages(1, { deviceId: hub.deviceId }, 30_000);
    hub.hub.patchDesired(hub.deviceId, { model: { package: { url: server.url, sha256: pkg.sha256 } } });
    const failed = await until('the failure reported', () => (report(hub)?.status === 'failed' ? report(hub) : null), 30_000);
    assert.equal(failed.error?.code, 'ERR_DOWNLOAD_UNAVAILABLE', JSON.stringify(failed));
    assert.match(failed.error.message, /HTTP 503/);
    const have = fs.statSync(part).size;
    assert.equal(have, 1024 * 1024, 'the partial file is kept');
    const desiredVersion = hub.hub.twin(hub.deviceId).desired.$version;
    server.up();
    const active = await until('active after a retry', () => (report(hub)?.status === 'active' ? report(hub) : null), 60_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(report(hub))} ${JSON.stringify(server.requests)}\n${agent.text().slice(-2000)}`);
    });
    assert.equal(active.name, 'yolox-nano');
    assert.equal(hub.hub.twin(hub.deviceId).desired.$version, desiredVersion, 'no twin change');
    assert.equal(server.requests[0], undefined, 'the first request is fresh');
    assert.ok(server.requests.length >= 3, JSON.stringify(server.requests));
    assert.deepEqual(new Set(server.requests.slice(1)), new Set([`bytes=${have}-`]), 'every later request resumes from the partial file');
    assert.match(agent.text(), /trying again later/);
    // The new model is loaded once (its pool in the swap, which checks it on a frame), not also in a trial pool before.
    const loads = agent
      .text()
      .split('\n')
      .filter((l) => l.includes('"msg":"execution provider in use"') && l.includes('"model":"yolox-nano"'));
    assert.equal(loads.length, 1, loads.join('\n'));
    assert.equal(fs.existsSync(part), false, 'the partial file is gone once installed');
  } finally {
    await agent.stop();
    Object.assign(retryBackoff, saved);
    server.close();
    await hub.close();
  }
});

test('a restart tries a download that failed on the network again at once, resumed', { timeout: 120_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir('percept-retry-boot-');
  const pkg = yolox();
  const server = await flakyServer(hub, pkg);
  const saved = { ...retryBackoff };
  // No timed retry within the test: only the restart can fetch again.
  retryBackoff.minMs = 600_000;
  let agent = startInProcess(hub, state);
  try {
    await hub.hub.waitForMessages(1, { deviceId: hub.deviceId }, 30_000);
    hub.hub.patchDesired(hub.deviceId, { model: { package: { url: server.url, sha256: pkg.sha256 } } });
    const failed = await until('the failure reported', () => (report(hub)?.status === 'failed' ? report(hub) : null), 30_000);
    assert.equal(failed.error?.code, 'ERR_DOWNLOAD_UNAVAILABLE', JSON.stringify(failed));
    await agent.stop();
    const have = fs.statSync(path.join(state, 'models', `${pkg.sha256}.part`)).size;
    const before = server.requests.length;
    server.up();
    agent = startInProcess(hub, state);
    const active = await until('active after the restart', () => (report(hub)?.status === 'active' ? report(hub) : null), 60_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(report(hub))} ${JSON.stringify(server.requests)}\n${agent.text().slice(-2000)}`);
    });
    assert.equal(active.name, 'yolox-nano');
    assert.deepEqual(server.requests.slice(before), [`bytes=${have}-`], 'one request after the restart, resumed from the partial file');
  } finally {
    await agent.stop();
    Object.assign(retryBackoff, saved);
    server.close();
    await hub.close();
  }
});
