// On a terminal the live summary (stdout) and readable logs (stderr) share the screen: a log
// line printed while the summary line is shown must start on a line of its own, with the
// summary drawn again below it. Runs `percept run` under a real pseudo-terminal (script(1)).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, image, tempDir } from '../helpers/paths.js';

test('on a terminal, no log line shares a line with the live summary', { timeout: 90_000 }, () => {
  const dir = tempDir();
  const frames = path.join(dir, 'frames');
  fs.mkdirSync(frames);
  fs.copyFileSync(image('dog.jpg'), path.join(frames, 'a.jpg'));
  // A corrupt frame in a looping folder: a warning while the summary is on screen.
  fs.writeFileSync(path.join(frames, 'b.jpg'), fs.readFileSync(image('dog.jpg')).subarray(0, 600));
  const cmd = `'${process.execPath}' '${CLI}' run --source '${frames}' --loop --fps 8 --frames 24 --no-preview --state-dir '${path.join(dir, 'state')}'`;
  const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], {
    encoding: 'utf8',
    timeout: 80_000,
    env: { ...process.env, PERCEPT_LOG_LEVEL: 'info', COLUMNS: '200' },
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const stamp = /\[\d\d:\d\d:\d\d\.\d{3}\]/;
  // What each screen line shows (a terminal ends lines with CR LF): the text after its last
  // carriage return, escapes removed.
  const visible = r.stdout
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((l) => (l.split('\r').at(-1) ?? '').replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''));
  assert.ok(
    visible.some((l) => / fps \| /.test(l)),
    `the summary was drawn:\n${r.stdout.slice(-2000)}`,
  );
  assert.ok(
    visible.some((l) => stamp.test(l) && /corrupt|cannot|decode/i.test(l)),
    `a warning was logged mid-run:\n${r.stdout.slice(-3000)}`,
  );
  for (const l of visible) assert.ok(!(/ fps \| /.test(l) && stamp.test(l)), `a log line shares the summary's line: ${JSON.stringify(l)}`);
});
