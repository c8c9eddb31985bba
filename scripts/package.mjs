#!/usr/bin/env node
// Builds the bare-board bundle percept-<version>-linux-<arch>.tar.gz: the compiled agent, its
// production node_modules for that architecture, the native addons (cross-compiled when the
// target is not this machine), its own Node.js 20, the systemd unit, the install script and
// the README with the docs.
//
// Usage: npm run package -- --arch arm64|x64 [--out <folder>]   (default folder: build/)
// Needs: npm registry access (first run), node-gyp (dev dependency), and for arm64 on x64
// crossbuild-essential-arm64 plus libtss2-dev:arm64 (scripts/setup --arm64 installs them).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { arch: { type: 'string', default: os.arch() }, out: { type: 'string', default: 'build' } } });
const ARCHES = { arm64: { elf: 0xb7, gnu: 'aarch64-linux-gnu' }, x64: { elf: 0x3e, gnu: 'x86_64-linux-gnu' } };
const arch = values.arch;
if (!ARCHES[arch]) fail(`unknown --arch '${arch}': use arm64 or x64`);
const cross = arch !== os.arch();
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const name = `percept-${pkg.version}-linux-${arch}`;
const outDir = path.resolve(root, values.out);
const cacheDir = path.join(root, '.cache', 'package');
const require = createRequire(path.join(root, 'package.json'));
const gyp = require.resolve('node-gyp/bin/node-gyp.js');

function fail(msg) {
  console.error(`package: ${msg}`);
  process.exit(1);
}

function log(msg) {
  console.log(`package: ${msg}`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts, env: { ...process.env, ...opts.env } });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
  return r;
}

/** The ELF machine of a binary, so a wrong-architecture file never ships silently. */
function elfMachine(file) {
  const b = fs.readFileSync(file).subarray(0, 20);
  if (b.readUInt32BE(0) !== 0x7f454c46) return -1;
  return b.readUInt16LE(18);
}

function expectArch(file) {
  if (!fs.existsSync(file)) fail(`missing ${path.relative(outDir, file)}: the ${arch} build of it did not land`);
  const m = elfMachine(file);
  if (m !== ARCHES[arch].elf) fail(`${path.relative(outDir, file)} is not a linux-${arch} binary (ELF machine 0x${m.toString(16)})`);
}

/** Node.js 20 for the target, from the npm registry's official builds (binary + headers). */
function nodeDist() {
  const dir = path.join(cacheDir, `node-linux-${arch}`);
  if (fs.existsSync(path.join(dir, 'package', 'bin', 'node'))) return path.join(dir, 'package');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  log(`fetching node-linux-${arch}@20`);
  const r = spawnSync('npm', ['pack', `node-linux-${arch}@20`, '--silent'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) fail(`npm pack node-linux-${arch}@20 failed: ${r.stderr}`);
  run('tar', ['xzf', r.stdout.trim().split('\n').pop(), '-C', dir], { cwd: dir });
  return path.join(dir, 'package');
}

/** Compiler and pkg-config settings for node-gyp when building for another architecture. */
function gypEnv() {
  if (!cross) return {};
  const gnu = ARCHES[arch].gnu;
  if (spawnSync(`${gnu}-g++`, ['--version'], { stdio: 'ignore' }).status !== 0) {
    fail(`${gnu}-g++ not found: install the cross toolchain (scripts/setup --${arch}).`);
  }
  return {
    CC: `${gnu}-gcc`,
    CXX: `${gnu}-g++`,
    LINK: `${gnu}-g++`,
    AR: `${gnu}-ar`,
    PKG_CONFIG_LIBDIR: `/usr/lib/${gnu}/pkgconfig:/usr/share/pkgconfig`,
  };
}

function gypBuild(dir, nodedir) {
  run(process.execPath, [gyp, 'rebuild', '--release', `--arch=${arch}`, `--nodedir=${nodedir}`, '--jobs=max'], { cwd: dir, env: gypEnv() });
}

/**
 * Production dependencies for the target, cached by lock file and architecture. Install
 * scripts are off: onnxruntime-node and sharp ship prebuilt binaries per cpu/os (npm picks
 * the target's with --cpu/--os); better-sqlite3 is compiled here for the target.
 */
function deps(nodedir) {
  const lock = fs.readFileSync(path.join(root, 'package-lock.json'));
  const key = createHash('sha256')
    .update(lock)
    .update(fs.readFileSync(path.join(root, 'package.json')))
    .digest('hex')
    .slice(0, 12);
  const dir = path.join(cacheDir, `deps-${arch}-${key}`);
  if (fs.existsSync(path.join(dir, '.complete'))) return path.join(dir, 'node_modules');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.copyFileSync(path.join(root, 'package-lock.json'), path.join(dir, 'package-lock.json'));
  log(`npm ci --omit=dev for linux-${arch}`);
  run('npm', ['ci', '--omit=dev', `--cpu=${arch}`, '--os=linux', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: dir,
    env: { ONNXRUNTIME_NODE_INSTALL: 'skip', ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip' },
  });
  log(`building better-sqlite3 for linux-${arch}`);
  gypBuild(path.join(dir, 'node_modules', 'better-sqlite3'), nodedir);
  // Only the target's onnxruntime binaries: the package carries every platform's (~290 MB).
  const ortBin = path.join(dir, 'node_modules', 'onnxruntime-node', 'bin');
  for (const napi of fs.readdirSync(ortBin)) {
    for (const plat of fs.readdirSync(path.join(ortBin, napi))) {
      if (plat !== 'linux') fs.rmSync(path.join(ortBin, napi, plat), { recursive: true });
      else for (const a of fs.readdirSync(path.join(ortBin, napi, plat))) if (a !== arch) fs.rmSync(path.join(ortBin, napi, plat, a), { recursive: true });
    }
  }
  const bs = path.join(dir, 'node_modules', 'better-sqlite3');
  for (const sub of [
    'deps',
    'src',
    path.join('build', 'Release', 'obj.target'),
    path.join('build', 'Release', 'obj'),
    path.join('build', 'Release', '.deps'),
  ]) {
    fs.rmSync(path.join(bs, sub), { recursive: true, force: true });
  }
  fs.writeFileSync(path.join(dir, '.complete'), new Date().toISOString());
  return path.join(dir, 'node_modules');
}

/** Every addon under native/ (each folder with a binding.gyp), built for the target. */
function addons(stage, nodedir) {
  const built = [];
  const nativeDir = path.join(root, 'native');
  for (const name of fs.readdirSync(nativeDir)) {
    const src = path.join(nativeDir, name);
    if (!fs.existsSync(path.join(src, 'binding.gyp'))) continue;
    const work = path.join(cacheDir, `native-${arch}`, name);
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(work), { recursive: true });
    fs.cpSync(src, work, { recursive: true, filter: (f) => !f.startsWith(path.join(src, 'build')) });
    log(`building native/${name} for linux-${arch}`);
    // binding.gyp resolves node-addon-api from its folder upwards.
    fs.rmSync(path.join(path.dirname(work), 'node_modules'), { recursive: true, force: true });
    fs.mkdirSync(path.join(path.dirname(work), 'node_modules'));
    fs.symlinkSync(path.join(stage, 'node_modules', 'node-addon-api'), path.join(path.dirname(work), 'node_modules', 'node-addon-api'));
    gypBuild(work, nodedir);
    for (const f of fs.readdirSync(path.join(work, 'build', 'Release'))) {
      if (!f.endsWith('.node')) continue;
      const dest = path.join(stage, 'native', name, 'build', 'Release', f);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(path.join(work, 'build', 'Release', f), dest);
      built.push(dest);
    }
  }
  return built;
}

const t0 = Date.now();
log(`building ${name}`);
// Compiled into a folder of its own: the checkout's dist/ may be in use (the test suite runs
// from it while this runs beside it).
const compiled = path.join(outDir, `tsc-${arch}`);
fs.rmSync(compiled, { recursive: true, force: true });
run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json', '--outDir', compiled], { cwd: root });
const nodedir = nodeDist();
const stage = path.join(outDir, `stage-${arch}`, name);
fs.rmSync(path.dirname(stage), { recursive: true, force: true });
fs.mkdirSync(stage, { recursive: true });
fs.cpSync(path.join(compiled, 'src'), path.join(stage, 'dist', 'src'), { recursive: true, filter: (f) => !f.endsWith('.map') });
fs.cpSync(path.join(root, 'models'), path.join(stage, 'models'), { recursive: true });
fs.copyFileSync(path.join(root, 'package.json'), path.join(stage, 'package.json'));
// percept.service's Documentation= points at these.
fs.copyFileSync(path.join(root, 'README.md'), path.join(stage, 'README.md'));
fs.cpSync(path.join(root, 'docs'), path.join(stage, 'docs'), { recursive: true });
for (const f of ['percept.service', 'install.sh']) fs.copyFileSync(path.join(root, 'deploy', f), path.join(stage, f));
fs.cpSync(deps(nodedir), path.join(stage, 'node_modules'), { recursive: true, verbatimSymlinks: true });
const built = addons(stage, nodedir);
fs.mkdirSync(path.join(stage, 'node', 'bin'), { recursive: true });
fs.copyFileSync(path.join(nodedir, 'bin', 'node'), path.join(stage, 'node', 'bin', 'node'));
fs.chmodSync(path.join(stage, 'node', 'bin', 'node'), 0o755);
fs.copyFileSync(path.join(nodedir, 'LICENSE'), path.join(stage, 'node', 'LICENSE'));
fs.mkdirSync(path.join(stage, 'bin'));
fs.writeFileSync(
  path.join(stage, 'bin', 'percept'),
  "#!/bin/sh\n# The bundle's own Node.js runs the agent; no system Node is needed.\n" +
    'here="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"\nexec "$here/node/bin/node" "$here/dist/src/cli.js" "$@"\n',
  { mode: 0o755 },
);

// The bundle must hold the target's binaries, never this machine's by mistake.
const ort = path.join(stage, 'node_modules', 'onnxruntime-node', 'bin');
for (const napi of fs.readdirSync(ort)) expectArch(path.join(ort, napi, 'linux', arch, 'onnxruntime_binding.node'));
const sharpLib = path.join(stage, 'node_modules', '@img', `sharp-linux-${arch}`, 'lib');
const sharpNode = fs.existsSync(sharpLib) ? fs.readdirSync(sharpLib).find((f) => f.endsWith('.node')) : undefined;
expectArch(path.join(sharpLib, sharpNode ?? `sharp-linux-${arch}.node`));
const vipsLib = path.join(stage, 'node_modules', '@img', `sharp-libvips-linux-${arch}`, 'lib');
const vips = fs.existsSync(vipsLib) ? fs.readdirSync(vipsLib).find((f) => f.startsWith('libvips-cpp.so')) : undefined;
expectArch(path.join(vipsLib, vips ?? 'libvips-cpp.so'));
expectArch(path.join(stage, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'));
expectArch(path.join(stage, 'node', 'bin', 'node'));
for (const f of built) expectArch(f);

const tarball = path.join(outDir, `${name}.tar.gz`);
run('tar', ['czf', tarball, '-C', path.dirname(stage), name]);
fs.rmSync(path.dirname(stage), { recursive: true, force: true });
const mb = (fs.statSync(tarball).size / 1048576).toFixed(1);
log(
  `wrote ${path.relative(root, tarball)} (${mb} MB, ${((Date.now() - t0) / 1000).toFixed(0)} s; addons: ${built.map((f) => path.basename(f)).join(', ') || 'none'})`,
);
