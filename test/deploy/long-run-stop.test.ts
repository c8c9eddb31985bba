// A device check stopped from outside (a CI cancel sends the test process SIGTERM) gets its
// exit traps run to the end: the test process passes the signal on to the check's process
// group and waits for it, instead of SIGKILLing it at once on its way out, which is how an
// image build used to leave overlay mounts behind in a deleted checkout.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, tempDir } from '../helpers/paths.js';
import { until } from '../helpers/agent.js';

test('SIGTERM to a test running a long command lets the command clean up before the test process goes', { timeout: 60_000 }, async () => {
  const dir = tempDir('percept-long-stop-');
  const started = path.join(dir, 'started');
  const cleaned = path.join(dir, 'cleaned');
  // A command whose cleanup takes 2 s, as removing containers and mounts does.
  const command = `trap 'exit 143' TERM; trap 'sleep 2; echo done > ${cleaned}' EXIT; echo $$ > ${started}; sleep 60 & wait`;
  const script = path.join(dir, 'run.mjs');
  fs.writeFileSync(
    script,
    `import { runGroup } from ${JSON.stringify(path.join(ROOT, 'dist', 'test', 'helpers', 'long-run.js'))};\n` +
      `await runGroup('bash', ['-c', ${JSON.stringify(command)}], 120_000);\n`,
  );
  const testProcess = spawn(process.execPath, [script], { detached: true, stdio: 'ignore' });
  const gone = new Promise<number | null>((resolve) => testProcess.on('close', (code) => resolve(code)));
  let group = 0;
  try {
    group = Number(await until('the command to start', () => fs.existsSync(started) && fs.readFileSync(started, 'utf8').trim(), 15_000));
    // The signal a runner sends the test process alone (the command has a session of its own).
    process.kill(testProcess.pid!, 'SIGTERM');
    assert.equal(await gone, 143);
    assert.equal(fs.existsSync(cleaned) ? fs.readFileSync(cleaned, 'utf8').trim() : 'no cleanup', 'done', "the command's exit trap ran to its end");
  } finally {
    for (const pg of [testProcess.pid, group]) {
      try {
        if (pg) process.kill(-pg, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
});
