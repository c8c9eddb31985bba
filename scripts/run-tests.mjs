#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with node's test runner.
// Arguments filter by substring: `npm test -- emulator` runs only matching files.
//
// Long tests (*.long.test.js: the arm64 check under qemu, the module image build) take many
// minutes each and mostly wait on the network, qemu and compilers at low priority. They run in
// a second test runner started at the same time as the first, one process per file, so they
// neither queue behind the other files nor hold the first runner's slots; their report is
// printed after the first runner's, and the exit status is the worse of the two.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const base = join(root, 'dist', 'test');
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
})(base);

const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const selected = filters.length ? files.filter((f) => filters.some((s) => relative(base, f).includes(s))) : files;
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const long = selected.filter((f) => f.endsWith('.long.test.js'));
const rest = selected.filter((f) => !f.endsWith('.long.test.js'));
const concurrency = process.env.PERCEPT_TEST_CONCURRENCY ?? '2';
const env = { ...process.env, ORT_DISABLE_TELEMETRY: '1' };

/** One node --test runner; `capture` keeps its report to print later. */
function runner(testFiles, conc, capture) {
  const child = spawn(process.execPath, ['--test', `--test-concurrency=${conc}`, '--test-reporter=spec', ...testFiles], {
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    env,
  });
  let report = '';
  if (capture) {
    child.stdout.on('data', (c) => (report += c));
    child.stderr.on('data', (c) => (report += c));
  }
  const done = new Promise((resolve) => {
    child.on('error', (err) => resolve({ status: 1, report: `${report}\n${err.message}` }));
    child.on('close', (status) => resolve({ status: status ?? 1, report }));
  });
  return { child, done };
}

const longRun = long.length ? runner(long, String(long.length), rest.length > 0) : undefined;
if (longRun && rest.length) {
  console.log(`run-tests: ${long.length} long test file(s) started beside the others; their report follows at the end:`);
  for (const f of long) console.log(`  ${relative(base, f)}`);
}
const restRun = rest.length ? runner(rest, concurrency, false) : undefined;
// A kill of this process (a CI cancel) reaches both runners, and through them the tests'
// own process groups.
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    for (const r of [restRun, longRun]) r?.child.kill(sig);
    setTimeout(() => process.exit(sig === 'SIGINT' ? 130 : 143), 5_000).unref();
  });
}
const restResult = restRun ? await restRun.done : { status: 0, report: '' };
let longResult = { status: 0, report: '' };
if (longRun) {
  if (rest.length) console.log(`\nrun-tests: waiting for the long test file(s)...`);
  longResult = await longRun.done;
  if (longResult.report) process.stdout.write(`\nrun-tests: report of the long test file(s)\n${longResult.report}`);
}
process.exit(restResult.status !== 0 ? restResult.status : longResult.status);
