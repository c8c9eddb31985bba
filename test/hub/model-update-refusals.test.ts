// Every bad model package is refused with its own code, reported in percept.model, while the
// running model (YOLOX-Nano) keeps sending telemetry (among them a Custom Vision export of a
// DomainType percept cannot decode, and a model.onnx with no manifest saying what it is); on a device that requires signatures
// (modelUpdate.trustedKeys in its own configuration), a signed good package then goes active.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import { startTestHub, JSON_HEADERS } from '../helpers/emulator.js';
import { agentArgs, startAgent, until } from '../helpers/agent.js';
import { ROOT, YOLOX_NANO, tempDir } from '../helpers/paths.js';
import { testModels } from '../helpers/in-process.js';
import { buildPackage, signDigest } from '../../src/models/package.js';
import { writeZip } from '../../src/models/zip-write.js';
import { publishFile } from '../../src/emulator/files.js';

type ModelReport = { status: string; name: string | null; sha256: string | null; error: { code: string; message: string } | null; at: string };
type Reported = { percept?: { model?: ModelReport | null } };
type Body = { model?: { name: string }; frames: Array<{ detections: unknown[] }> };

const MiB = 1024 * 1024;
const models = testModels('percept-refusal-models-');

test('bad packages are refused with their own codes while YOLOX keeps running; a signed one goes active', { timeout: 300_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir();
  const work = tempDir('percept-pkgs-');
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const otherKey = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  fs.writeFileSync(path.join(work, 'trusted.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  const cfg = path.join(work, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({ modelUpdate: { trustedKeys: [path.join(work, 'trusted.pem')], maxBytes: 8 * MiB, stallMs: 500 } }));

  // A server that sends headers and a few bytes, then nothing (trusted through the hub's CA).
  const sockets = new Set<net.Socket>();
  const staller = https.createServer(
    { key: fs.readFileSync(path.join(hub.stateDir, 'server-key.pem')), cert: fs.readFileSync(path.join(hub.stateDir, 'server-cert.pem')) },
    (_req, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(100));
    },
  );
  staller.on('connection', (s: net.Socket) => sockets.add(s));
  await new Promise<void>((r) => staller.listen(0, '127.0.0.1', r));

  const agent = startAgent(agentArgs(hub, state, ['--config', cfg]), { stateDir: state });
  const report = () => (hub.hub.twin(hub.deviceId).reported as Reported).percept?.model ?? null;
  const windows = (from: number) =>
    hub.hub
      .messages(hub.deviceId)
      .slice(from)
      .map((m) => m.body as Body)
      .filter((b) => b.model);
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'models/yolox-nano.json'), 'utf8')) as Record<string, unknown>;
  const onnx = fs.readFileSync(YOLOX_NANO);

  /** Publishes `zip` on the emulator's file server; returns a signed package reference. */
  const publish = async (zip: Buffer, name: string) => {
    const f = path.join(work, name);
    fs.writeFileSync(f, zip);
    const p = await publishFile(hub.stateDir, f);
    return { url: hub.hub.fileUrl(p.name), sha256: p.sha256, signature: signDigest(p.sha256, keyPem) };
  };
  const perceptZip = (m: Record<string, unknown>, model: Buffer, extra: Array<{ name: string; data: Buffer; mode?: number }> = []) =>
    writeZip([{ name: 'percept-model.json', data: Buffer.from(JSON.stringify({ ...m, file: 'model.onnx' })) }, { name: 'model.onnx', data: model }, ...extra]);

  const good = buildPackage({ manifestPath: path.join(ROOT, 'models/yolox-nano.json'), modelPath: YOLOX_NANO });
  const goodRef = await publish(good.zip, 'good.zip');
  const truncated = good.zip.subarray(0, good.zip.length - 1000);
  const cvModel = fs.readFileSync(path.join(models, 'ssd-customvision.onnx'));
  const cvZip = (manifest: object | null) =>
    writeZip([
      ...(manifest ? [{ name: 'cvexport.manifest', data: Buffer.from(JSON.stringify(manifest)) }] : []),
      { name: 'model.onnx', data: cvModel },
      { name: 'labels.txt', data: Buffer.from('cat\ndog\nbird\n') },
    ]);
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['missing signature', { ...goodRef, signature: null }, 'ERR_PACKAGE_SIGNATURE'],
    ['signature by an untrusted key', { ...goodRef, signature: signDigest(goodRef.sha256, otherKey) }, 'ERR_PACKAGE_SIGNATURE'],
    ['wrong sha256', { ...goodRef, sha256: 'cd'.repeat(32) }, 'ERR_PACKAGE_HASH'],
    ['no sha256 (modelUpdate.requireHash)', { ...goodRef, sha256: null }, 'ERR_PACKAGE_HASH'],
    ['zip-slip entry', await publish(perceptZip(manifest, onnx, [{ name: '../../evil.txt', data: Buffer.from('x') }]), 'slip.zip'), 'ERR_PACKAGE_PATH'],
    [
      'symlink entry',
      await publish(perceptZip(manifest, onnx, [{ name: 'labels.txt', data: Buffer.from('/etc/shadow'), mode: 0o120777 }]), 'link.zip'),
      'ERR_PACKAGE_ENTRY_TYPE',
    ],
    ['zip bomb', await publish(perceptZip(manifest, Buffer.alloc(6 * MiB)), 'bomb.zip'), 'ERR_PACKAGE_BOMB'],
    ['truncated zip', await publish(truncated, 'truncated.zip'), 'ERR_PACKAGE_CORRUPT'],
    ['not ONNX', await publish(perceptZip(manifest, Buffer.from('<html>404</html>')), 'html.zip'), 'ERR_PACKAGE_NOT_ONNX'],
    [
      'manifest that does not fit the model',
      await publish(perceptZip({ ...manifest, input: { ...(manifest.input as object), name: 'pixels' } }, onnx), 'misfit.zip'),
      'ERR_MANIFEST_MISMATCH',
    ],
    [
      'a Custom Vision export of an unknown DomainType',
      await publish(cvZip({ DomainType: 'Segmentation', Platform: 'ONNX', ModelFileName: 'model.onnx', LabelFileName: 'labels.txt' }), 'cv-seg.zip'),
      'ERR_PACKAGE_UNSUPPORTED',
    ],
    ['a model.onnx with no cvexport.manifest', await publish(cvZip(null), 'cv-bare.zip'), 'ERR_PACKAGE_LAYOUT'],
    ['404', { ...goodRef, url: hub.hub.fileUrl('no-such.zip') }, 'ERR_DOWNLOAD_HTTP'],
    ['a download that stalls', { ...goodRef, url: `https://127.0.0.1:${(staller.address() as net.AddressInfo).port}/pkg.zip` }, 'ERR_DOWNLOAD_STALLED'],
    ['larger than the cap', await publish(crypto.randomBytes(9 * MiB), 'huge.zip'), 'ERR_DOWNLOAD_TOO_LARGE'],
    ['plain HTTP', { ...goodRef, url: goodRef.url.replace('https:', 'http:') }, 'ERR_DOWNLOAD_INSECURE'],
  ];
  try {
    await hub.hub.waitForMessages(2, { deviceId: hub.deviceId }, 30_000);
    for (const [what, pkg, code] of cases) {
      const before = report()?.at ?? '';
      const from = hub.hub.messages(hub.deviceId).length;
      const res = await fetch(`${hub.api}/devices/${hub.deviceId}/twin/desired`, {
        method: 'PATCH',
        headers: JSON_HEADERS,
        body: JSON.stringify({ model: { package: pkg } }),
      });
      assert.equal(res.status, 200);
      const r = await until(
        `refusal of ${what}`,
        () => {
          const m = report();
          return m && m.at !== before && (m.status === 'failed' || m.status === 'active') ? m : null;
        },
        30_000,
      );
      assert.equal(r.status, 'failed', `${what}: ${JSON.stringify(r)}`);
      assert.equal(r.error?.code, code, `${what}: ${r.error?.message}`);
      // The running model keeps sending telemetry.
      // Windows, not the track events beside them.
      const later = await until(`windows after the refusal of ${what}`, () => (windows(from).length >= 2 ? windows(from) : null), 15_000);
      assert.ok(later.length > 0 && later.every((b) => b.model!.name === 'yolox-nano'), `${what}: telemetry kept coming from YOLOX`);
    }
    assert.doesNotMatch(fs.readdirSync(path.join(state, 'models')).join(','), /\.tmp-/, 'no half-unpacked folder is left');
    assert.equal(fs.existsSync(path.join(state, 'evil.txt')) || fs.existsSync(path.join(state, 'models', 'evil.txt')), false);

    // The twin cannot loosen the device's own modelUpdate settings.
    await fetch(`${hub.api}/devices/${hub.deviceId}/twin/desired`, {
      method: 'PATCH',
      headers: JSON_HEADERS,
      body: JSON.stringify({ modelUpdate: { allowHttp: true, trustedKeys: [] } }),
    });
    const config = () =>
      (hub.hub.twin(hub.deviceId).reported as { percept?: { config?: { status: string; error: { message: string } | null } } }).percept?.config;
    const rejected = await until('modelUpdate from the twin rejected', () => (config()?.status === 'rejected' ? config() : null));
    assert.match(rejected.error!.message, /modelUpdate/);
    await fetch(`${hub.api}/devices/${hub.deviceId}/twin/desired`, { method: 'PATCH', headers: JSON_HEADERS, body: JSON.stringify({ modelUpdate: null }) });
    await until('desired applied again', () => config()?.status === 'applied');

    const before = report()?.at ?? '';
    await fetch(`${hub.api}/devices/${hub.deviceId}/twin/desired`, {
      method: 'PATCH',
      headers: JSON_HEADERS,
      body: JSON.stringify({ model: { package: goodRef } }),
    });
    const r = await until(
      'signed package active',
      () => {
        const m = report();
        return m && m.at !== before && m.status === 'active' ? m : null;
      },
      60_000,
    );
    assert.equal(r.name, 'yolox-nano');
    assert.equal(r.sha256, goodRef.sha256);
    assert.equal(await agent.stop(), 0, agent.stderr());
  } finally {
    await agent.stop();
    for (const s of sockets) s.destroy();
    staller.close();
    await hub.close();
  }
});
