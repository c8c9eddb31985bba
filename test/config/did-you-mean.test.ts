// A slip gets the closest known name: a misspelt flag of `percept run` (exit 2), a misspelt key
// of the config file, and a PERCEPT_* variable nothing reads, which is warned about once at
// start instead of being ignored silently.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { unknownEnv } from '../../src/config/derive.js';
import { PerceptError } from '../../src/errors.js';
import { jsonLines, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

test('a misspelt flag is a usage error naming the closest flag', async () => {
  for (const [typo, near] of [
    ['--worker', '--workers'],
    ['--no-preveiw', '--no-preview'],
    ['--telemetry-intervall=5', '--telemetry-interval'],
    ['--confg', '--config'],
  ] as const) {
    const r = await runCli(['run', '--source', 'demo', typo]);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(`[ERR_USAGE] unknown option ${typo.split('=')[0]}; did you mean ${near}?`), r.stderr);
  }
  const far = await runCli(['run', '--frobnicate']);
  assert.equal(far.code, 2);
  assert.match(far.stderr, /unknown option --frobnicate \(percept run --help lists the options\)/);
});

test('a misspelt key of the config file names the closest key', () => {
  const dir = tempDir();
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ sources: [{ id: 'a', kind: 'demo', fsp: 2 }], threds: 2, telemetry: { interval: 100 } }));
  assert.throws(
    () => loadConfig({ file, env: {} }),
    (e: unknown) => {
      assert.ok(PerceptError.is(e, 'ERR_CONFIG'));
      const lines = e.message.split('\n').sort();
      assert.deepEqual(lines, [
        `sources.0.fsp: not a setting; did you mean sources.0.fps? (from sources.0.fsp in config file ${file})`,
        `telemetry.interval: not a setting; did you mean telemetry.intervalMs? (from telemetry.interval in config file ${file})`,
        `threds: not a setting; did you mean threads? (from threds in config file ${file})`,
      ]);
      return true;
    },
  );
});

test('unknown PERCEPT_* variables are found, each with the closest known name', () => {
  assert.deepEqual(
    unknownEnv({ PERCEPT_WORKRS: '2', PERCEPT_WORKERS: '2', PERCEPT_DEMO_DIR: '/x', PERCEPT_TEST_LOG: '1', PERCEPT_QQQQQQQQQQ: '1', HOME: '/root' }),
    [
      { name: 'PERCEPT_QQQQQQQQQQ', closest: undefined },
      { name: 'PERCEPT_WORKRS', closest: 'PERCEPT_WORKERS' },
    ],
  );
});

test('percept run warns once about each unknown PERCEPT_* variable', async () => {
  const r = await runCli(['run', '--source', 'synthetic', '--frames', '1', '--output', 'none', '--no-preview'], {
    env: { PERCEPT_WORKRS: '2', PERCEPT_QQQQQQQQQQ: '1' },
  });
  assert.equal(r.code, 0, r.stderr);
  const warnings = jsonLines(r.stderr).filter((l) => typeof l.variable === 'string');
  assert.deepEqual(
    warnings.map((w) => [w.level, w.msg]),
    [
      [40, 'unknown environment variable PERCEPT_QQQQQQQQQQ is ignored'],
      [40, 'unknown environment variable PERCEPT_WORKRS is ignored; did you mean PERCEPT_WORKERS?'],
    ],
  );
});
