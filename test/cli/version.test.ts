// `percept --version` prints the version of the package it was built from, and the agent
// reports the same one (one source: package.json).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/paths.js';
import { VERSION } from '../../src/version.js';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

test('percept --version prints the version from package.json', async () => {
  const r = await runCli(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${pkg.version}\n`);
  assert.match(pkg.version, /^\d+\.\d+\.\d+/);
});

test('the version the agent reports is the package version', () => {
  assert.equal(VERSION, pkg.version);
});

test('--help lists --version', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--version/);
});
