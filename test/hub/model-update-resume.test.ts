// A reboot in the middle of a model download: the agent is killed (SIGKILL) while the package
// streams, the partial file and the step stay in <state>/models/, and the next run resumes the
// download with Range from where the file ends, verifies it and makes the package active.
// Killed again within the new model's first 30 s, the agent boots on the previous model and
// reports the rollback (the new model may be what killed it).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import { startTestHub } from '../helpers/emulator.js';
import { agentArgs, startAgent, until } from '../helpers/agent.js';
import { ROOT, YOLOX_NANO, tempDir } from '../helpers/paths.js';
import { buildPackage } from '../../src/models/package.js';

type Reported = { percept?: { model?: { status: string; progress?: number; name: string | null } | null } };

test('a reboot mid-download resumes with Range and the package goes active', { timeout: 180_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir();
  const pkg = buildPackage({ manifestPath: path.join(ROOT, 'models/yolox-nano.json'), modelPath: YOLOX_NANO });
  const requests: Array<string | undefined> = [];
  const sockets = new Set<net.Socket>();
  // The first request gets 1 MiB and then nothing; later ones are served in full from their Range.
  const server = https.createServer(
    { key: fs.readFileSync(path.join(hub.stateDir, 'server-key.pem')), cert: fs.readFileSync(path.join(hub.stateDir, 'server-cert.pem')) },
    (req, res) => {
      requests.push(req.headers.range);
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = m ? Number(m[1]) : 0;
      // The first answer has no length (chunked): the twin's size gives the progress.
      res.writeHead(m ? 206 : 200, m ? { 'content-length': String(pkg.size - start), 'content-range': `bytes ${start}-${pkg.size - 1}/${pkg.size}` } : {});
      if (requests.length === 1) res.write(pkg.zip.subarray(0, 1024 * 1024));
      else res.end(pkg.zip.subarray(start));
    },
  );
  server.on('connection', (s: net.Socket) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}/pkg.zip`;
  const part = path.join(state, 'models', `${pkg.sha256}.part`);

  let agent = startAgent(agentArgs(hub, state), { stateDir: state });
  try {
    await hub.hub.waitForMessages(2, { deviceId: hub.deviceId }, 30_000);
    hub.hub.patchDesired(hub.deviceId, { model: { package: { url, sha256: pkg.sha256, size: pkg.size } } });
    await until('part of the package on disk', () => fs.existsSync(part) && fs.statSync(part).size >= 1024 * 1024, 30_000);
    const downloading = await until('downloading reported with progress', () => {
      const m = (hub.hub.twin(hub.deviceId).reported as Reported).percept?.model;
      return m?.status === 'downloading' && (m.progress ?? 0) > 0 ? m : null;
    });
    assert.ok((downloading.progress ?? 0) < 1);
    agent.child.kill('SIGKILL');
    await agent.exited;
    const have = fs.statSync(part).size;
    assert.equal((JSON.parse(fs.readFileSync(path.join(state, 'models', 'state.json'), 'utf8')) as { pending: { step: string } }).pending.step, 'downloading');

    agent = startAgent(agentArgs(hub, state), { stateDir: state });
    const active = await until(
      'active after the restart',
      () => {
        const m = (hub.hub.twin(hub.deviceId).reported as Reported).percept?.model;
        return m?.status === 'active' ? m : null;
      },
      60_000,
    );
    assert.equal(active.name, 'yolox-nano');
    assert.deepEqual(requests, [undefined, `bytes=${have}-`], 'one fresh request, then one resumed from the partial file');
    assert.equal(fs.existsSync(part), false, 'the partial file is gone once installed');

    agent.child.kill('SIGKILL');
    await agent.exited;
    const from = hub.hub.messages(hub.deviceId).length;
    agent = startAgent(agentArgs(hub, state), { stateDir: state });
    const back = await until(
      'rollback reported after the restart',
      () => {
        const m = (hub.hub.twin(hub.deviceId).reported as Reported).percept?.model as { status: string; error?: { code: string; message: string } } | undefined;
        return m?.status === 'rolledBack' ? m : null;
      },
      30_000,
    );
    assert.equal(back.error?.code, 'ERR_PACKAGE_ROLLED_BACK');
    assert.match(back.error.message, /restarted/);
    await hub.hub.waitForMessages(from + 2, { deviceId: hub.deviceId }, 30_000);
    const saved = JSON.parse(fs.readFileSync(path.join(state, 'models', 'state.json'), 'utf8')) as { active: unknown; trial: unknown };
    assert.deepEqual([saved.active, saved.trial], [null, null], 'the configured model runs, no trial pending');
    assert.equal(requests.length, 2, 'the rolled-back package is not fetched again');
    assert.equal(await agent.stop(), 0, agent.stderr());
  } finally {
    await agent.stop();
    for (const s of sockets) s.destroy();
    server.close();
    await hub.close();
  }
});
