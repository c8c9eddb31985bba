// telemetry.output names the IoT Edge output the messages leave by, so a deployment's routes
// written for azureeyemodule (FROM /messages/modules/<m>/outputs/AzureEyeModuleOutput) keep
// working: set by --output-name, PERCEPT_OUTPUT_NAME, or the file's telemetry.output or its
// older name hub.output.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { startTestHub } from '../helpers/emulator.js';
import { startAgent } from '../helpers/agent.js';
import { YOLOX_NANO, image, tempDir } from '../helpers/paths.js';

test('the output name comes from the flag, the variable or the file (hub.output still read)', () => {
  const dir = tempDir();
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ sources: [{ id: 'a', kind: 'demo' }], hub: { output: 'FromOldKey' } }));
  const old = loadConfig({ file, env: {} });
  assert.equal(old.telemetry.output, 'FromOldKey');
  assert.equal(old.origins['telemetry.output'], `hub.output in config file ${file}`);
  assert.equal(loadConfig({ file, env: { PERCEPT_OUTPUT_NAME: 'FromEnv' } }).telemetry.output, 'FromEnv');
  assert.equal(loadConfig({ file, env: { PERCEPT_OUTPUT_NAME: 'FromEnv' }, flags: { outputName: 'FromFlag' } }).telemetry.output, 'FromFlag');
  assert.equal(loadConfig({ env: {} }).telemetry.output, 'detections');
});

test('an IoT Edge module sends through the output --output-name names (and hub.output in a config file)', async () => {
  const hub = await startTestHub({ deviceId: 'edge-box', moduleId: 'percept' });
  try {
    const env = { ...hub.hub.edgeEnv('edge-box', 'percept'), PERCEPT_CONNECTION_STRING: '' };
    const dir = tempDir();
    const cfg = path.join(dir, 'c.json');
    fs.writeFileSync(cfg, JSON.stringify({ hub: { output: 'LegacyOutput' } }));
    const common = [
      '--source',
      `dog=${image('dog.jpg')}`,
      '--frames',
      '2',
      '--loop',
      '--model',
      'yolox-nano',
      '--model-path',
      YOLOX_NANO,
      '--no-preview',
      '--output',
      'none',
    ];
    for (const [extra, want] of [
      [['--output-name', 'AzureEyeModuleOutput'], 'AzureEyeModuleOutput'],
      [['--config', cfg], 'LegacyOutput'],
    ] as const) {
      const state = tempDir();
      const before = hub.hub.messages('edge-box', 'percept').length;
      const agent = startAgent(['run', ...common, ...extra, '--state-dir', state], { stateDir: state, env });
      assert.equal(await agent.exited, 0, agent.stderr());
      const msgs = hub.hub.messages('edge-box', 'percept').slice(before);
      assert.ok(msgs.length >= 1, 'telemetry arrived from the module');
      // Windows leave by the named output; track events by their own (`events`).
      for (const m of msgs)
        assert.equal(
          m.systemProperties.outputName ?? m.systemProperties.on ?? m.properties['$.on'],
          m.properties.schema === 'percept.event/1' ? 'events' : want,
        );
    }
  } finally {
    await hub.close();
  }
});
