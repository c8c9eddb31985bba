#!/usr/bin/env node
// Builds the native TPM addon (native/tpm2) with node-gyp when the tpm2-tss development
// files are installed. Without them it warns and exits 0: the agent still works, signing
// with the software key, and `percept doctor` explains how to enable the TPM.
//
// Usage: node scripts/build-native.mjs [--clean] [--optional]
//   --clean     reconfigure from scratch (after a Node or tpm2-tss upgrade)
//   --optional  a failed compile is a warning, not an error
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addonDir = path.join(root, 'native', 'tpm2');
const args = new Set(process.argv.slice(2));
const PKGS = ['tss2-esys', 'tss2-tctildr', 'tss2-mu', 'tss2-rc'];

function warn(lines) {
  console.warn(lines.map((l) => `percept: ${l}`).join('\n'));
}

const pc = spawnSync('pkg-config', ['--exists', ...PKGS], { stdio: 'ignore' });
if (pc.error || pc.status !== 0) {
  warn([
    'tpm2-tss development files not found (pkg-config: ' + PKGS.join(', ') + ').',
    'The native TPM addon was NOT built: TPM signing is unavailable and the agent will use',
    'the software signer. To enable it: apt-get install libtss2-dev pkg-config build-essential',
    '(Debian/Ubuntu) or dnf install tpm2-tss-devel, then run: node scripts/build-native.mjs',
  ]);
  process.exit(0);
}

// node-gyp needs Node's headers. A distro or tarball install ships them under
// <prefix>/include/node; pointing node-gyp there avoids a download (offline devices).
function nodedir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

const require = createRequire(path.join(root, 'package.json'));
const gyp = require.resolve('node-gyp/bin/node-gyp.js');
const dir = nodedir();
const common = dir ? [`--nodedir=${dir}`] : [];

function run(step, extra = []) {
  const r = spawnSync(process.execPath, [gyp, step, ...common, ...extra], {
    cwd: addonDir,
    stdio: 'inherit',
  });
  return r.status === 0;
}

const configured = existsSync(path.join(addonDir, 'build', 'Makefile'));
const ok =
  (configured && !args.has('--clean') ? true : run('configure')) && run('build', ['--jobs=max']);

if (!ok) {
  const msg = [
    'building native/tpm2 failed (see the compiler output above).',
    'Check that libtss2-dev matches the installed libtss2 runtime and that a C++17 compiler',
    'is installed; retry with: node scripts/build-native.mjs --clean',
  ];
  if (args.has('--optional')) {
    warn([...msg, 'Continuing without TPM signing (--optional).']);
    process.exit(0);
  }
  warn(msg);
  process.exit(1);
}
console.log(`percept: built ${path.relative(root, path.join(addonDir, 'build', 'Release', 'tpm2.node'))}`);
