// One error shape at every edge: the same bad value gives the same message whether it came from
// a flag, a PERCEPT_* variable, the config file or the twin's desired properties, each naming
// its origin, always ERR_CONFIG (exit 2 from the command).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { applyDesired } from '../../src/config/desired.js';
import { parseRunArgs } from '../../src/cli/args.js';
import { PerceptError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

/** The message of the ERR_CONFIG `fn` throws. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(PerceptError.is(e, 'ERR_CONFIG'), `ERR_CONFIG, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected a refusal');
}

const CASES = [
  {
    flag: ['--workers', '0'],
    env: { PERCEPT_WORKERS: '0' },
    file: { workers: 0 },
    twin: { workers: 0 },
    key: 'workers',
    says: 'workers: expected an integer from 1 to 16 but got 0',
  },
  {
    flag: ['--workers', 'many'],
    env: { PERCEPT_WORKERS: 'many' },
    file: { workers: 'many' },
    twin: { workers: 'many' },
    key: 'workers',
    says: "workers: expected an integer from 1 to 16 but got 'many'",
  },
  {
    flag: ['--telemetry-interval', '5'],
    env: { PERCEPT_TELEMETRY_INTERVAL: '5' },
    file: { telemetry: { intervalMs: 5 } },
    twin: { telemetry: { intervalMs: 5 } },
    key: 'telemetry.intervalMs',
    says: 'telemetry.intervalMs: expected an integer from 100 to 3600000 but got 5',
  },
  {
    flag: ['--providers', 'cpu,gpu'],
    env: { PERCEPT_PROVIDERS: 'cpu,gpu' },
    file: { providers: ['cpu', 'gpu'] },
    twin: { providers: ['cpu', 'gpu'] },
    key: 'providers.1',
    says: "providers.1: expected one of cpu, openvino, cuda, tensorrt, dml, coreml, webgpu, xnnpack, qnn but got 'gpu'",
  },
  {
    flag: ['--log-level', 'loud'],
    env: { PERCEPT_LOG_LEVEL: 'loud' },
    file: { logLevel: 'loud' },
    twin: { logLevel: 'loud' },
    key: 'logLevel',
    says: "logLevel: expected one of fatal, error, warn, info, debug, trace, silent but got 'loud'",
  },
] as const;

test('the same bad value gives the same message from a flag, the environment, the file and the twin', () => {
  const dir = tempDir();
  const base = loadConfig({ env: {}, flags: { sources: ['demo'] } });
  for (const c of CASES) {
    const file = path.join(dir, 'c.json');
    fs.writeFileSync(file, JSON.stringify({ sources: [{ id: 'a', kind: 'demo' }], ...c.file }));
    assert.equal(
      refusal(() => loadConfig({ env: {}, flags: parseRunArgs([...c.flag]).flags })),
      `${c.says} (from ${c.flag[0]})`,
    );
    assert.equal(
      refusal(() => loadConfig({ env: c.env })),
      `${c.says} (from ${Object.keys(c.env)[0]})`,
    );
    assert.equal(
      refusal(() => loadConfig({ file, env: {} })),
      `${c.says} (from ${c.key} in config file ${file})`,
    );
    assert.equal(
      refusal(() => applyDesired(base, c.twin)),
      `${c.says} (from desired properties)`,
    );
  }
});

test('percept run: a bad flag or variable is ERR_CONFIG, exit 2, in the same words', async () => {
  const fromFlag = await runCli(['run', '--workers', '0']);
  assert.equal(fromFlag.code, 2);
  assert.equal(fromFlag.stderr.trim(), 'percept: [ERR_CONFIG] workers: expected an integer from 1 to 16 but got 0 (from --workers)');
  const fromEnv = await runCli(['run'], { env: { PERCEPT_WORKERS: '0' } });
  assert.equal(fromEnv.code, 2);
  assert.equal(fromEnv.stderr.trim(), 'percept: [ERR_CONFIG] workers: expected an integer from 1 to 16 but got 0 (from PERCEPT_WORKERS)');
  // A unit: the flag says MiB, the message names the flag it came from.
  const mb = await runCli(['run', '--outbox-max-mb', 'lots']);
  assert.equal(mb.code, 2);
  assert.match(mb.stderr, /\[ERR_CONFIG\] hub\.outboxMaxBytes: expected an integer from 65536 to \d+ but got 'lots' \(from --outbox-max-mb\)/);
});
