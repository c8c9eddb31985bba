// Recognising model packages: percept's own (built by buildPackage from YOLOX-Nano), Azure
// Percept's config.json and a Custom Vision export (tiny ONNX models made by
// scripts/make-test-models.py), each loaded back as a manifest that fits the real graph; and
// the refusals: unknown DomainType, not ONNX, no known layout; and the package signature.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { buildPackage, preparePackage, signDigest, verifyDigest } from '../../src/models/package.js';
import { unzip } from '../../src/models/unzip.js';
import { loadManifest } from '../../src/models/manifest.js';
import { checkAgainstSession, resolveModelFile } from '../../src/models/index.js';
import { PerceptError, type ErrorCode } from '../../src/errors.js';
import { ROOT, YOLOX_NANO, tempDir } from '../helpers/paths.js';

const models = tempDir('percept-pkgmodels-');
const fresh = () => fs.mkdtempSync(path.join(models, 'd'));

before(() => {
  const r = spawnSync('/usr/bin/python3', [path.join(ROOT, 'scripts', 'make-test-models.py'), models], { encoding: 'utf8' });
  assert.equal(r.status, 0, `make-test-models.py failed: ${r.stderr}`);
});

function folder(files: Record<string, Buffer | string>): string {
  const d = fresh();
  for (const [n, v] of Object.entries(files)) fs.writeFileSync(path.join(d, n), v);
  return d;
}

/** Loads the staged manifest as the pipeline would and checks it against the model's graph. */
async function fits(manifestPath: string): Promise<void> {
  const { manifest, dir } = await loadManifest(manifestPath);
  const s = await ort.InferenceSession.create(resolveModelFile(manifest, dir));
  try {
    checkAgainstSession(manifest, s.inputNames, s.outputNames, s.inputMetadata, s.outputMetadata);
  } finally {
    await s.release();
  }
}

async function refused(dir: string, code: ErrorCode): Promise<string> {
  const e = await preparePackage(dir, { fallbackName: 'x' }).then(
    () => assert.fail(`expected ${code}`),
    (x: unknown) => x,
  );
  assert.ok(PerceptError.is(e), String(e));
  assert.equal(e.code, code, e.message);
  return e.message;
}

test("percept's own package: pack, unzip, recognise, fits YOLOX-Nano's graph", async () => {
  const pkg = buildPackage({ manifestPath: path.join(ROOT, 'models/yolox-nano.json'), modelPath: YOLOX_NANO });
  assert.equal(pkg.sha256, crypto.createHash('sha256').update(pkg.zip).digest('hex'));
  assert.equal(buildPackage({ manifestPath: path.join(ROOT, 'models/yolox-nano.json'), modelPath: YOLOX_NANO }).sha256, pkg.sha256, 'packing is reproducible');
  const d = path.join(fresh(), 'x');
  const zip = path.join(fresh(), 'p.zip');
  fs.writeFileSync(zip, pkg.zip);
  await unzip(zip, d, { maxBytes: 200 * 1024 * 1024 });
  const p = await preparePackage(d, { fallbackName: 'x' });
  assert.deepEqual({ kind: p.kind, name: p.name, version: p.version }, { kind: 'percept', name: 'yolox-nano', version: '1' });
  await fits(p.manifestPath);
});

test("Azure Percept's config.json with DomainType s1 maps to the SSD decoder", async () => {
  const d = folder({
    'config.json': JSON.stringify({ DomainType: 'S1', ModelFileName: 'cv.onnx', LabelFileName: 'labels.txt' }),
    'cv.onnx': fs.readFileSync(path.join(models, 'ssd-customvision.onnx')),
    'labels.txt': 'cat\ndog\nbird\n',
  });
  const p = await preparePackage(d, { fallbackName: 'package-abc' });
  assert.equal(p.kind, 'azure-percept');
  assert.equal(p.name, 'package-abc');
  const { manifest } = await loadManifest(p.manifestPath);
  assert.equal(manifest.decoder.type, 'ssd');
  assert.deepEqual(manifest.labels, ['cat', 'dog', 'bird']);
  await fits(p.manifestPath);
});

test('a Custom Vision export (model.onnx, labels.txt, cvexport.manifest) is recognised', async () => {
  const d = folder({
    'model.onnx': fs.readFileSync(path.join(models, 'ssd-customvision.onnx')),
    'labels.txt': 'cat\ndog\nbird',
    'cvexport.manifest': JSON.stringify({ DomainType: 'ObjectDetection', Platform: 'ONNX' }),
  });
  const p = await preparePackage(d, { fallbackName: 'package-cv' });
  assert.equal(p.kind, 'custom-vision');
  await fits(p.manifestPath);
});

test("a Custom Vision export's cvexport.manifest decides: its DomainType, its Platform, its labels", async () => {
  const cv = fs.readFileSync(path.join(models, 'ssd-customvision.onnx'));
  const manifest = (m: object) => JSON.stringify({ Platform: 'ONNX', ModelFileName: 'model.onnx', LabelFileName: 'labels.txt', ...m });
  // A classifier is read as one because the manifest says so.
  const c = await preparePackage(
    folder({
      'model.onnx': fs.readFileSync(path.join(models, 'classifier.onnx')),
      'labels.txt': 'a\nb\nc',
      'cvexport.manifest': manifest({ DomainType: 'Classification' }),
    }),
    { fallbackName: 'x' },
  );
  assert.equal((await loadManifest(c.manifestPath)).manifest.decoder.type, 'classification');
  await fits(c.manifestPath);
  // Its own file names are followed.
  const named = await preparePackage(
    folder({
      'det.onnx': cv,
      'tags.txt': 'cat\ndog',
      'cvexport.manifest': manifest({ DomainType: 'ObjectDetection', ModelFileName: 'det.onnx', LabelFileName: 'tags.txt' }),
    }),
    { fallbackName: 'x' },
  );
  assert.deepEqual((await loadManifest(named.manifestPath)).manifest.labels, ['cat', 'dog']);
  assert.match(
    await refused(folder({ 'model.onnx': cv, 'labels.txt': 'a', 'cvexport.manifest': manifest({ DomainType: 'Segmentation' }) }), 'ERR_PACKAGE_UNSUPPORTED'),
    /Segmentation/,
  );
  assert.match(await refused(folder({ 'model.onnx': cv, 'labels.txt': 'a', 'cvexport.manifest': manifest({}) }), 'ERR_PACKAGE_LAYOUT'), /DomainType/);
  assert.match(
    await refused(
      folder({ 'model.onnx': cv, 'labels.txt': 'a', 'cvexport.manifest': manifest({ DomainType: 'ObjectDetection', Platform: 'CoreML' }) }),
      'ERR_PACKAGE_NOT_ONNX',
    ),
    /CoreML/,
  );
  assert.match(
    await refused(folder({ 'model.onnx': cv, 'cvexport.manifest': manifest({ DomainType: 'ObjectDetection' }) }), 'ERR_PACKAGE_LAYOUT'),
    /labels\.txt/,
  );
  // A model.onnx alone says nothing of its outputs: no layout.
  assert.match(await refused(folder({ 'model.onnx': cv, 'labels.txt': 'a' }), 'ERR_PACKAGE_LAYOUT'), /cvexport\.manifest/);
});

test("Custom Vision's older YOLOv2-style export (model_outputs0) is refused, not guessed at", async () => {
  const d = folder({
    'model.onnx': fs.readFileSync(path.join(models, 'ssd-customvision.onnx')),
    'labels.txt': 'a',
    'cvexport.manifest': JSON.stringify({ DomainType: 'ObjectDetection', Platform: 'ONNX' }),
  });
  const e = await preparePackage(d, {
    fallbackName: 'x',
    inspect: async () => ({ inputs: [{ name: 'data', shape: [1, 3, 416, 416] }], outputs: ['model_outputs0'] }),
  }).then(
    () => assert.fail('expected a refusal'),
    (x: unknown) => x,
  );
  assert.ok(PerceptError.is(e, 'ERR_PACKAGE_UNSUPPORTED'), String(e));
  assert.match((e as Error).message, /S1/);
});

test('an unknown DomainType is a typed refusal', async () => {
  const d = folder({
    'config.json': JSON.stringify({ DomainType: 'yolov2-openvino', ModelFileName: 'cv.onnx' }),
    'cv.onnx': fs.readFileSync(path.join(models, 'ssd-customvision.onnx')),
  });
  assert.match(await refused(d, 'ERR_PACKAGE_UNSUPPORTED'), /yolov2-openvino/);
});

test('a model that is not ONNX, and a package of no known layout, are refused', async () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'models/yolox-nano.json'), 'utf8')) as Record<string, unknown>;
  await refused(folder({ 'percept-model.json': JSON.stringify({ ...manifest, file: 'm.onnx' }), 'm.onnx': '<html>not found</html>' }), 'ERR_PACKAGE_NOT_ONNX');
  await refused(folder({ 'config.json': JSON.stringify({ DomainType: 's1', ModelFileName: 'model.xml' }), 'model.xml': '<net/>' }), 'ERR_PACKAGE_NOT_ONNX');
  await refused(folder({ 'readme.txt': 'hi' }), 'ERR_PACKAGE_LAYOUT');
  await refused(folder({ 'percept-model.json': JSON.stringify({ ...manifest, file: 'missing.onnx' }) }), 'ERR_PACKAGE_LAYOUT');
});

test('signatures: ECDSA P-256 over the sha256, DER or IEEE P1363; other keys do not verify', () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const other = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const sha = crypto.createHash('sha256').update('package').digest('hex');
  const sig = signDigest(sha, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  assert.equal(verifyDigest(sha, sig, [pub]), true);
  assert.equal(verifyDigest(sha, sig, [other, pub]), true);
  assert.equal(verifyDigest(sha, sig, [other]), false);
  assert.equal(verifyDigest('00'.repeat(32), sig, [pub]), false);
  assert.equal(verifyDigest(sha, 'bm90IGEgc2lnbmF0dXJl', [pub]), false);
  const p1363 = crypto.sign('sha256', Buffer.from(sha, 'hex'), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64');
  assert.equal(verifyDigest(sha, p1363, [pub]), true);
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  assert.throws(
    () => signDigest(sha, rsa),
    (e: unknown) => PerceptError.is(e, 'ERR_USAGE'),
  );
});
