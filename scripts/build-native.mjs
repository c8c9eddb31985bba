#!/usr/bin/env node
// Builds the native addons with node-gyp: native/v4l2 (cameras; needs only the Linux kernel
// headers) and native/tpm2 (when the tpm2-tss development files are installed), plus the fake
// camera library the capture tests preload (test/fake-v4l2/libfakev4l2.so).
//
// A missing prerequisite is a warning: the agent still works (software signing; ffmpeg for
// cameras) and `percept doctor` explains how to enable the rest. A failed compile is an error
// unless --optional is given; under CI=true every failure, and missing kernel headers on
// Linux, is an error whatever the flags, so a broken addon never slips through.
//
// Usage: node scripts/build-native.mjs [--clean] [--optional]
//   --clean     reconfigure from scratch (after a Node, kernel-header or tpm2-tss upgrade)
//   --optional  a failed compile is a warning, not an error (ignored when CI=true)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const ci = process.env.CI === 'true' || process.env.CI === '1';
const optional = args.has('--optional') && !ci;
const TPM_PKGS = ['tss2-esys', 'tss2-tctildr', 'tss2-mu', 'tss2-rc'];

function warn(lines) {
  console.warn(lines.map((l) => `percept: ${l}`).join('\n'));
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

function gypBuild(addonDir) {
  const run = (step, extra = []) => spawnSync(process.execPath, [gyp, step, ...common, ...extra], { cwd: addonDir, stdio: 'inherit' }).status === 0;
  const configured = existsSync(path.join(addonDir, 'build', 'Makefile'));
  return (configured && !args.has('--clean') ? true : run('configure')) && run('build', ['--jobs=max']);
}

/** Builds one addon; returns false when it failed and the failure must fail the script. */
function build(name, fixes) {
  const addonDir = path.join(root, 'native', name);
  if (gypBuild(addonDir)) {
    console.log(`percept: built ${path.relative(root, path.join(addonDir, 'build', 'Release', `${name}.node`))}`);
    return true;
  }
  const msg = [`building native/${name} failed (see the compiler output above).`, ...fixes];
  if (optional) {
    warn([...msg, `Continuing without native/${name} (--optional).`]);
    return true;
  }
  warn(ci ? [...msg, 'CI=true: a native build failure fails the build.'] : msg);
  return false;
}

let ok = true;

// --- native/v4l2: on every Linux host with kernel headers ---
if (process.platform !== 'linux') {
  warn(['native/v4l2 is Linux-only (V4L2); cameras will be read through ffmpeg.']);
} else if (!existsSync('/usr/include/linux/videodev2.h')) {
  warn([
    'Linux kernel headers not found (/usr/include/linux/videodev2.h).',
    'The native camera addon was NOT built: cameras will be read through ffmpeg.',
    'To enable it: apt-get install linux-libc-dev build-essential (Debian/Ubuntu) or',
    'dnf install kernel-headers gcc-c++, then run: node scripts/build-native.mjs',
  ]);
  if (ci) ok = false;
} else {
  ok = build('v4l2', ['Check that a C++17 compiler is installed (build-essential); retry with: node scripts/build-native.mjs --clean']) && ok;
}

// --- the fake camera for the capture tests (absent from installed packages) ---
const fakeDir = path.join(root, 'test', 'fake-v4l2');
if (process.platform === 'linux' && existsSync(path.join(fakeDir, 'fake-v4l2.c'))) {
  const out = path.join(fakeDir, 'libfakev4l2.so');
  const sources = readdirSync(fakeDir)
    .filter((n) => n.endsWith('.c'))
    .map((n) => path.join(fakeDir, n));
  const cc = process.env.CC ?? 'cc';
  const flags = ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', '-fvisibility=hidden'];
  const r = spawnSync(cc, [...flags, '-o', out, ...sources, '-ldl', '-lpthread'], { stdio: 'inherit' });
  if (r.status === 0) console.log(`percept: built ${path.relative(root, out)}`);
  else if (optional) warn(['building test/fake-v4l2 failed; the capture tests cannot run (--optional).']);
  else {
    warn([`building test/fake-v4l2 failed (${cc}); install a C compiler (build-essential).`]);
    ok = false;
  }
}

// --- native/tpm2: only with tpm2-tss ---
const pc = spawnSync('pkg-config', ['--exists', ...TPM_PKGS], { stdio: 'ignore' });
if (pc.error || pc.status !== 0) {
  warn([
    'tpm2-tss development files not found (pkg-config: ' + TPM_PKGS.join(', ') + ').',
    'The native TPM addon was NOT built: TPM signing is unavailable and the agent will use',
    'the software signer. To enable it: apt-get install libtss2-dev pkg-config build-essential',
    '(Debian/Ubuntu) or dnf install tpm2-tss-devel, then run: node scripts/build-native.mjs',
  ]);
} else {
  ok =
    build('tpm2', [
      'Check that libtss2-dev matches the installed libtss2 runtime and that a C++17 compiler',
      'is installed; retry with: node scripts/build-native.mjs --clean',
    ]) && ok;
}

process.exit(ok ? 0 : 1);
