// What the twin may say about models: a name (a built-in model or a manifest in the local
// modelDirs), never a path, at the top level and in each source; rejections quote no file.
import test from 'node:test';
import assert from 'node:assert/strict';
import { applyDesired } from '../../src/config/desired.js';
import { parseConfig } from '../../src/config/load.js';
import { PerceptError } from '../../src/errors.js';

const base = parseConfig({ sources: [{ id: 'd', kind: 'demo' }], model: { name: 'yolox-nano', path: '/models/yolox_nano.onnx' } });
const refused = (pattern: RegExp) => (e: unknown) => PerceptError.is(e, 'ERR_CONFIG') && pattern.test(e.message) && !/root:/.test(e.message);

test('the twin names models by name only', () => {
  assert.equal(applyDesired(base, { model: { name: 'blazeface-front' } }).config.model.name, 'blazeface-front');
  assert.equal(applyDesired(base, { model: { name: 'my-model.v2', scoreThreshold: 0.5 } }).config.model.scoreThreshold, 0.5);
  for (const name of ['/etc/passwd', '../etc/passwd', 'models/x', 'x.json', '.hidden']) {
    assert.throws(() => applyDesired(base, { model: { name } }), refused(/model\.name: a model name/), name);
  }
  assert.throws(
    () => applyDesired(base, { model: { name: 'yolox-nano', path: '/etc/passwd' } }),
    refused(/^model\.path: not something the twin may set .*\(from desired properties\)$/),
  );
  assert.throws(
    () => applyDesired(base, { sources: [{ id: 'd', kind: 'demo', model: { name: '/etc/passwd' } }] }),
    refused(/sources\.0\.model\.name: a model name/),
  );
  assert.throws(
    () => applyDesired(base, { sources: [{ id: 'd', kind: 'demo', model: { name: 'x', path: '/etc/shadow' } }] }),
    refused(/^sources\.0\.model\.path: not something the twin may set/),
  );
});

test("naming the model the device runs keeps the device's own ONNX file; another model drops it", () => {
  const same = applyDesired(base, { model: { name: 'yolox-nano', scoreThreshold: 0.6 } }).config.model;
  assert.deepEqual([same.name, same.path, same.scoreThreshold], ['yolox-nano', '/models/yolox_nano.onnx', 0.6]);
  const other = applyDesired(base, { model: { name: 'blazeface-front' } }).config.model;
  assert.equal(other.path, undefined, "the device's file belongs to the model it was given for");
});
