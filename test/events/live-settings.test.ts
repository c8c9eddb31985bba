// The agent applies new zones, lines and tracker settings (as the twin gives them) to the running
// pipeline, without rebuilding it; a new source still rebuilds it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { applyDesired } from '../../src/config/desired.js';
import { Agent } from '../../src/agent/agent.js';
import { createLogger } from '../../src/log.js';
import { image, tempDir, YOLOX_NANO } from '../helpers/paths.js';

test('zones, lines and tracker settings apply to the running pipeline', async () => {
  const cfg = loadConfig({
    env: {},
    flags: {
      sources: [`dog=${image('dog.jpg')}`],
      loop: true,
      fps: 4,
      model: 'yolox-nano',
      modelPath: YOLOX_NANO,
      preview: false,
      stateDir: tempDir(),
      workers: 1,
    },
  });
  const agent = new Agent(cfg, { logger: createLogger({ level: 'silent' }) });
  await agent.startRuntime();
  try {
    const before = agent.pipeline;
    assert.ok(before);
    assert.deepEqual(before.lineCounts(), []);
    const { config } = applyDesired(cfg, {
      lines: {
        dog: [
          {
            name: 'gate',
            points: [
              [0.5, 0],
              [0.5, 1],
            ],
          },
        ],
      },
      zones: {
        dog: [
          {
            name: 'all',
            polygon: [
              [0, 0],
              [1, 0],
              [1, 1],
              [0, 1],
            ],
          },
        ],
      },
      tracker: { timeoutSeconds: 2 },
    });
    await agent.reconfigure(config);
    assert.equal(agent.pipeline, before, 'not rebuilt');
    assert.deepEqual(before.lineCounts(), [{ source: 'dog', line: 'gate', forward: 0, backward: 0 }]);
    assert.deepEqual(
      before.zoneCounts().map((z) => z.zone),
      ['all'],
    );
    // The photo's objects (a dog, a bicycle, a truck) stand still in every frame: once confirmed
    // (2 hits at 4 fps) and 3 frames inside, they are in the zone that covers the frame.
    const deadline = Date.now() + 60_000;
    while (!before.zoneCounts()[0]?.present && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const z = before.status().zones[0];
    assert.ok(z && z.present > 0 && z.entered === z.present && z.exited === 0, JSON.stringify(z));
  } finally {
    await agent.stop(0);
  }
});
