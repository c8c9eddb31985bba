// scripts/setup in a checkout whose native build folders were configured in another one (a
// copied or moved tree): node-gyp recorded the other absolute paths, so a plain build fails
// with "No rule to make target". setup notices and builds them again from scratch by itself.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { ROOT } from '../helpers/paths.js';
import { unavailable } from '../helpers/requirements.js';

const AGENT_PKGS = [
  'ffmpeg',
  'swtpm',
  'swtpm-tools',
  'tpm2-tools',
  'libtss2-dev',
  'python3-onnx',
  'python3-numpy',
  'python3-skimage',
  'chromium',
  'pkg-config',
  'g++',
  'make',
];
// On amd64 Debian, setup with no flags installs the device checks' tools as well.
const DEVICE_PKGS = ['qemu-user-static', 'binfmt-support', 'debootstrap', 'crossbuild-essential-arm64', 'libtss2-dev:arm64', 'buildah'];
const osId = fs.existsSync('/etc/os-release') ? (/^ID=(.*)$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '') : '';
const debianAmd64 = osId.replace(/"/g, '') === 'debian' && spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout?.trim() === 'amd64';
const PKGS = debianAmd64 ? [...AGENT_PKGS, ...DEVICE_PKGS] : AGENT_PKGS;

/** Packages scripts/setup would install: the test must not make it run apt-get. */
function missingPackages(): string[] {
  return PKGS.filter((p) => !/install ok installed/.test(spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout ?? ''));
}

const builds = ['tpm2', 'v4l2'].filter((n) => fs.existsSync(path.join(ROOT, 'native', n, 'build', 'Makefile')));

const skip = unavailable(
  missingPackages().length
    ? `scripts/setup would install ${missingPackages().join(', ')}`
    : builds.length
      ? undefined
      : 'no native build folder in this checkout',
  'run scripts/setup (and npm run build) in this checkout first',
);

test('scripts/setup rebuilds from scratch native build folders configured in another checkout', { skip, timeout: 1_200_000 }, async (t) => {
  // Inside the checkout (ignored by git), so node_modules can be hard-linked on one file system.
  const base = path.join(ROOT, 'test-artifacts');
  fs.mkdirSync(base, { recursive: true });
  const copy = fs.mkdtempSync(path.join(base, 'setup-'));
  t.after(() => fs.rmSync(copy, { recursive: true, force: true }));
  for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'src', 'test', 'scripts', 'models', 'native']) {
    fs.cpSync(path.join(ROOT, entry), path.join(copy, entry), {
      recursive: true,
      preserveTimestamps: true,
      filter: (src) => !/[/\\](build|node_modules)$/.test(src) && !src.endsWith('.so'),
    });
  }
  assert.equal(spawnSync('cp', ['-al', path.join(ROOT, 'node_modules'), copy]).status, 0, 'node_modules hard-linked');
  // The dependencies are installed: setup must not run npm ci (it compares these two dates).
  // (A second older: file times are finer than a Date, so the same Date could round up.)
  const installed = new Date(fs.statSync(path.join(copy, 'node_modules', '.package-lock.json')).mtimeMs - 1000);
  fs.utimesSync(path.join(copy, 'package-lock.json'), installed, installed);
  // The build folders of this checkout, configured here, as a copied tree carries them.
  for (const n of builds) fs.cpSync(path.join(ROOT, 'native', n, 'build'), path.join(copy, 'native', n, 'build'), { recursive: true });

  const child = spawn('bash', [path.join(copy, 'scripts', 'setup')], { cwd: copy, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.on('exit', killGroup);
  t.after(killGroup);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

  assert.equal(code, 0, `scripts/setup succeeded; output:\n${out.slice(-4000)}`);
  assert.match(out, /setup: native build folders configured elsewhere:.*building them again from scratch/);
  for (const n of builds) {
    const dir = path.join(fs.realpathSync(copy), 'native', n);
    const makefile = fs.readFileSync(path.join(dir, 'build', 'Makefile'), 'utf8');
    assert.ok(makefile.includes(`"-Dmodule_root_dir=${dir}"`), `native/${n}/build is configured for the copy now`);
    assert.ok(fs.existsSync(path.join(dir, 'build', 'Release', `${n}.node`)), `native/${n} built`);
  }
});
