// An Azure Percept package through ModelZipUrl + ModelSha256 (config.json with DomainType s1,
// a Custom Vision-shaped ONNX) goes active; then a Custom Vision export (cvexport.manifest,
// model.onnx, labels.txt) through model.package; then a package whose model passes the load
// check and the trial frame but fails on camera frames is rolled back to it, and the reason is
// reported.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { JSON_HEADERS, startTestHub } from '../helpers/emulator.js';
import { agentArgs, startAgent, until } from '../helpers/agent.js';
import { ROOT, tempDir } from '../helpers/paths.js';
import { writeZip } from '../../src/models/zip-write.js';
import { publishFile } from '../../src/emulator/files.js';

type ModelReport = {
  status: string;
  name: string | null;
  sha256: string | null;
  error: { code: string; message: string } | null;
  previous: { name: string; sha256: string } | null;
  at: string;
};
type Reported = { percept?: { model?: ModelReport | null } };
type Body = { model?: { name: string }; frames: Array<{ detections: Array<{ label: string }> }> };

const models = tempDir('percept-rollback-models-');

/**
 * A detector whose boxes output has one row on a flat grey frame (the trial frame) and two on
 * any photo (its brightest pixel passes 120), while its scores keep one: the decoder refuses
 * every real frame.
 */
const FAILS_ON_PHOTOS = `
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
def const(name, arr):
    return helper.make_node('Constant', [], [name], value=numpy_helper.from_array(arr))
nodes = [
    helper.make_node('ReduceMax', ['images'], ['m'], keepdims=0),
    const('thr', np.array(120, np.float32)),
    helper.make_node('Greater', ['m', 'thr'], ['b']),
    helper.make_node('Cast', ['b'], ['bi'], to=TensorProto.INT64),
    const('one', np.array([1], np.int64)),
    const('ax', np.array([0], np.int64)),
    helper.make_node('Unsqueeze', ['bi', 'ax'], ['bi1']),
    helper.make_node('Add', ['bi1', 'one'], ['k']),
    helper.make_node('Concat', ['one', 'k', 'one'], ['reps'], axis=0),
    const('box', np.array([[[0.1, 0.1, 0.5, 0.5]]], np.float32)),
    helper.make_node('Tile', ['box', 'reps'], ['detected_boxes']),
    const('detected_scores', np.array([[0.9]], np.float32)),
    const('detected_classes', np.array([[0]], np.int64)),
]
graph = helper.make_graph(nodes, 'fails-on-photos', [helper.make_tensor_value_info('images', TensorProto.FLOAT, [1, 3, 64, 64])], [
    helper.make_tensor_value_info('detected_boxes', TensorProto.FLOAT, [1, 'n', 4]),
    helper.make_tensor_value_info('detected_scores', TensorProto.FLOAT, [1, 1]),
    helper.make_tensor_value_info('detected_classes', TensorProto.INT64, [1, 1]),
])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)], producer_name='percept-test')
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
`;
import { at } from '../helpers/at.js';

before(() => {
  const r = spawnSync('/usr/bin/python3', [path.join(ROOT, 'scripts', 'make-test-models.py'), models], { encoding: 'utf8' });
  assert.equal(r.status, 0, `make-test-models.py failed: ${r.stderr}`);
  const f = spawnSync('/usr/bin/python3', ['-c', FAILS_ON_PHOTOS, path.join(models, 'fails.onnx')], { encoding: 'utf8' });
  assert.equal(f.status, 0, `building the failing model failed: ${f.stderr}`);
});

test('a Percept ModelZipUrl package, then a Custom Vision export, go active; a model failing on frames is rolled back', { timeout: 180_000 }, async () => {
  const hub = await startTestHub();
  const state = tempDir();
  const work = tempDir('percept-rollback-');
  const agent = startAgent(agentArgs(hub, state), { stateDir: state });
  const report = () => (hub.hub.twin(hub.deviceId).reported as Reported).percept?.model ?? null;
  const windows = (from: number) =>
    hub.hub
      .messages(hub.deviceId)
      .slice(from)
      .map((m) => m.body as Body)
      .filter((b) => b.model);
  const patch = (doc: object) =>
    fetch(`${hub.api}/devices/${hub.deviceId}/twin/desired`, { method: 'PATCH', headers: JSON_HEADERS, body: JSON.stringify(doc) });
  const publish = async (name: string, zip: Buffer) => {
    fs.writeFileSync(path.join(work, name), zip);
    const p = await publishFile(hub.stateDir, path.join(work, name));
    return { url: hub.hub.fileUrl(p.name), sha256: p.sha256 };
  };
  try {
    await hub.hub.waitForMessages(2, { deviceId: hub.deviceId }, 30_000);

    const percept = await publish(
      'percept.zip',
      writeZip([
        { name: 'config.json', data: Buffer.from(JSON.stringify({ DomainType: 's1', ModelFileName: 'model.onnx', LabelFileName: 'labels.txt' })) },
        { name: 'model.onnx', data: fs.readFileSync(path.join(models, 'ssd-customvision.onnx')) },
        { name: 'labels.txt', data: Buffer.from('cat\ndog\nbird\n') },
      ]),
    );
    assert.equal((await patch({ ModelZipUrl: percept.url, ModelSha256: percept.sha256 })).status, 200);
    const cvName = `package-${percept.sha256.slice(0, 12)}`;
    const active = await until('Percept package active', () => (report()?.status === 'active' ? report() : null), 60_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(hub.hub.twin(hub.deviceId).reported)}\n${agent.stderr().slice(-3000)}`);
    });
    assert.equal(active.name, cvName);
    const from = hub.hub.messages(hub.deviceId).length;
    const cv = await until('telemetry from the Percept package', () => windows(from).find((b) => b.model!.name === cvName && b.frames.length > 0), 20_000);
    assert.deepEqual(
      at(cv.frames, 0)
        .detections.map((d) => d.label)
        .sort(),
      ['bird', 'cat'],
    );

    // A Custom Vision export, its labels in its own order: the manifest's DomainType says how to read it.
    const cvExport = await publish(
      'cv-export.zip',
      writeZip([
        {
          name: 'cvexport.manifest',
          data: Buffer.from(
            JSON.stringify({ DomainType: 'ObjectDetection', Platform: 'ONNX', Flavor: 'ONNX12', ModelFileName: 'model.onnx', LabelFileName: 'labels.txt' }),
          ),
        },
        { name: 'model.onnx', data: fs.readFileSync(path.join(models, 'ssd-customvision.onnx')) },
        { name: 'labels.txt', data: Buffer.from('fox\nowl\nbee\n') },
      ]),
    );
    const t1 = report()!.at;
    await patch({ ModelZipUrl: null, ModelSha256: null, model: { package: cvExport } });
    const exportName = `package-${cvExport.sha256.slice(0, 12)}`;
    const cvActive = await until('Custom Vision export active', () => (report()?.at !== t1 && report()?.status === 'active' ? report() : null), 60_000);
    assert.equal(cvActive.name, exportName, JSON.stringify(cvActive));
    const from2 = hub.hub.messages(hub.deviceId).length;
    const ex = await until('telemetry from the export', () => windows(from2).find((b) => b.model!.name === exportName && b.frames.length > 0), 20_000);
    assert.deepEqual(
      at(ex.frames, 0)
        .detections.map((d) => d.label)
        .sort(),
      ['bee', 'fox'],
    );

    const manifest = {
      name: 'fails-on-photos',
      input: { name: 'images', width: 64, height: 64, resize: 'stretch' },
      outputs: ['detected_boxes', 'detected_scores', 'detected_classes'],
      labels: ['thing'],
      decoder: { type: 'ssd', boxes: 'detected_boxes', scores: 'detected_scores', classes: 'detected_classes', boxFormat: 'xyxy' },
      file: 'fails.onnx',
    };
    const failing = await publish(
      'fails.zip',
      writeZip([
        { name: 'percept-model.json', data: Buffer.from(JSON.stringify(manifest)) },
        { name: 'fails.onnx', data: fs.readFileSync(path.join(models, 'fails.onnx')) },
      ]),
    );
    const t0 = report()!.at;
    await patch({ model: { package: failing } });
    const back = await until(
      'rolled back',
      () => {
        const m = report();
        return m && m.at !== t0 && (m.status === 'rolledBack' || m.status === 'failed') ? m : null;
      },
      60_000,
    );
    assert.equal(back.status, 'rolledBack', JSON.stringify(back));
    assert.equal(back.error?.code, 'ERR_PACKAGE_ROLLED_BACK');
    assert.match(back.error.message, /5 frames in a row/);
    assert.equal(back.sha256, failing.sha256, JSON.stringify(back));
    assert.equal(back.previous?.name, exportName, 'the Custom Vision export runs again');
    const after = hub.hub.messages(hub.deviceId).length;
    // Windows, not the track events beside them.
    const later = await until('windows after the rollback', () => (windows(after).length >= 3 ? windows(after) : null), 20_000);
    assert.ok(later.length > 0 && later.every((b) => b.model!.name === exportName), 'telemetry comes from the Custom Vision export again');
    assert.match(agent.stdout() + agent.stderr(), /model package rolled back/);
    assert.equal(await agent.stop(), 0, agent.stderr());
  } finally {
    await agent.stop();
    await hub.close();
  }
});
