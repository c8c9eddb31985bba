// Under IoT Edge the agent takes its identity and trust from the IoT Edge environment
// (ModuleClient.fromEnvironment over the workload API) and sends through its output, so
// edgeHub routes apply.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestHub } from '../helpers/emulator.js';
import { startAgent } from '../helpers/agent.js';
import { YOLOX_NANO, image, tempDir } from '../helpers/paths.js';
import { at } from '../helpers/at.js';

test('the agent runs as an IoT Edge module from the IoT Edge environment', async () => {
  const hub = await startTestHub({ deviceId: 'edge-box', moduleId: 'percept' });
  try {
    const env = hub.hub.edgeEnv('edge-box', 'percept');
    const state = tempDir();
    const agent = startAgent(
      [
        'run',
        '--source',
        `dog=${image('dog.jpg')}`,
        '--frames',
        '3',
        '--loop',
        '--model',
        'yolox-nano',
        '--model-path',
        YOLOX_NANO,
        '--state-dir',
        state,
        '--no-preview',
        '--output',
        'none',
      ],
      { stateDir: state, env: { ...env, PERCEPT_CONNECTION_STRING: '' } },
    );
    assert.equal(await agent.exited, 0, agent.stderr());
    assert.match(agent.stderr(), /"auth":"edge"/);
    // Windows (track events have their own output, checked in event-telemetry.test.ts).
    const msgs = hub.hub.messages('edge-box', 'percept').filter((m) => m.properties.schema === 'percept.detections/1');
    assert.ok(msgs.length >= 1, 'telemetry arrived from the module');
    assert.equal(at(msgs, 0).moduleId, 'percept');
    assert.equal(at(msgs, 0).systemProperties.outputName ?? at(msgs, 0).systemProperties.on ?? at(msgs, 0).properties['$.on'], 'detections');
  } finally {
    await hub.close();
  }
});
