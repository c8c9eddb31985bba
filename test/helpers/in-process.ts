// Agents run in the test's own process (for what a test reaches inside them: a worker fault, the
// update's backoff), and the tiny models scripts/make-test-models.py builds.
import { before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { TestHub } from './emulator.js';
import { until } from './agent.js';
import { ROOT, image, tempDir } from './paths.js';
import { memoryLogger } from '../web/helpers.js';
import { runAgent, type RunOptions } from '../../src/agent/run.js';
import { parseConfig } from '../../src/config/load.js';

/** A folder that holds the test models once the file's tests start (built in a `before` hook). */
export function testModels(prefix: string): string {
  const dir = tempDir(prefix);
  before(() => {
    const r = spawnSync('/usr/bin/python3', [path.join(ROOT, 'scripts', 'make-test-models.py'), dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, `make-test-models.py failed: ${r.stderr}`);
  });
  return dir;
}

/**
 * The agent in this process against `hub`, its state in `state`: by default BlazeFace on dog.jpg
 * looping at 4 fps, one worker; `config` replaces any of those keys, `opts` adds run options.
 */
export function startInProcess(hub: TestHub, state: string, config: Record<string, unknown> = {}, opts: Partial<RunOptions> = {}) {
  const { logger, text } = memoryLogger('info');
  const cfg = parseConfig({
    sources: [{ id: 'dog', kind: 'image', uri: image('dog.jpg'), loop: true, fps: 4 }],
    model: { name: 'blazeface-back' },
    workers: 1,
    threads: 1,
    output: 'none',
    stateDir: state,
    preview: { port: 0 },
    hub: { connectionString: hub.connectionString, ca: path.join(hub.stateDir, 'ca.pem') },
    ...config,
  });
  let stop!: () => void;
  const running = runAgent(cfg, { logger, ...opts, stop: new Promise<void>((r) => (stop = r)) });
  return {
    text,
    running,
    stop: async () => {
      stop();
      await running;
    },
  };
}

/** Waits for a window of model `name` with frames among the device's messages after the first `from`. */
export function modelWindows(hub: TestHub, from: number, name: string, ms: number): Promise<unknown> {
  type Body = { model?: { name: string }; frames?: unknown[] };
  return until(
    `${name} windows`,
    () =>
      hub.hub
        .messages(hub.deviceId)
        .slice(from)
        .some((m) => (m.body as Body).model?.name === name && ((m.body as Body).frames?.length ?? 0) > 0),
    ms,
  );
}
