// Every command answers --help; logs are JSON on a pipe and never carry a key or token.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { runCli } from '../helpers/cli.js';
import { createLogger, scrub } from '../../src/log.js';
import { COMMAND_FLAGS, GROUPS, OPTION_LIST } from '../../src/config/options.js';
import { at as itemAt } from '../helpers/at.js';

for (const cmd of ['run', 'start', 'bench', 'hub']) {
  test(`percept ${cmd} --help`, async () => {
    const r = await runCli([cmd, '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage:\s+percept/);
  });
}

test('percept run --help lists every option of the table, under its group, groups in order', async () => {
  const r = await runCli(['run', '--help']);
  assert.equal(r.code, 0, r.stderr);
  const at = Object.values(GROUPS).map((title) => r.stdout.indexOf(`\n${title}:\n`));
  assert.ok(
    at.every((i) => i > 0),
    'every group heading is there',
  );
  assert.deepEqual(
    [...at].sort((a, b) => a - b),
    at,
    'groups in table order',
  );
  for (const o of [...OPTION_LIST, ...COMMAND_FLAGS]) {
    const i = r.stdout.indexOf(`\n  ${'short' in o ? `${o.short}, ` : ''}${o.flag}${'arg' in o && o.arg ? ` ${o.arg}` : ''}`);
    assert.ok(i > 0, `${o.flag} is listed`);
    const g = Object.keys(GROUPS).indexOf(o.group);
    assert.ok(i > itemAt(at, g) && (g + 1 === at.length || i < itemAt(at, g + 1)), `${o.flag} is under ${o.group}`);
  }
});

test('an unknown command is a usage error', async () => {
  const r = await runCli(['fly']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'fly'/);
});

test('no key or token reaches a log line', () => {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ destination: dest, level: 'info' });
  const cs = 'HostName=h.azure-devices.net;DeviceId=d1;SharedAccessKey=c2VjcmV0a2V5c2VjcmV0a2V5';
  const sas = 'SharedAccessSignature sr=h%2Fdevices%2Fd1&sig=abcDEF123%3D&se=1700000000';
  log.info({ connectionString: cs }, 'connecting');
  log.info({ nested: { cfg: cs } }, `message with ${cs}`);
  log.warn({ password: sas }, sas);
  log.error(new Error(`failed with ${cs}`));
  const text = lines.join('');
  assert.equal(lines.length, 4);
  assert.doesNotMatch(text, /c2VjcmV0a2V5c2VjcmV0a2V5/);
  assert.doesNotMatch(text, /abcDEF123/);
  assert.match(text, /DeviceId=d1/, 'the rest of the line is kept');
  for (const l of lines) JSON.parse(l);
  assert.equal(scrub('x SharedAccessKey=abc;y'), 'x SharedAccessKey=[redacted];y');
});
