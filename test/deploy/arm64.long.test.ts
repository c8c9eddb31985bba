// ARM64 under emulation, as CI runs it: `npm run check:arm64` builds the arm64 bundle, installs
// it in an arm64 Debian 12 root file system and runs it there under qemu-user on the shared
// photos; every frame's detections must match this machine's x64 run, and the cross-compiled
// TPM addon must sign against a swtpm on the host. Its last line says which.
// A long test (*.long.test.ts): scripts/run-tests.mjs starts it at once, beside the others.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { SHARED_IMAGES, YOLOX_NANO } from '../helpers/paths.js';
import { unavailable } from '../helpers/requirements.js';
import { lastLine, missingCommands, missingPackages, notRoot, runLong } from '../helpers/long-run.js';

const TOOLS = ['debootstrap', 'chroot', 'unshare', 'swtpm', 'qemu-aarch64-static', 'update-binfmts', 'aarch64-linux-gnu-g++'];

function reason(): string | undefined {
  const root = notRoot();
  if (root) return `npm run check:arm64: ${root}`;
  const missing = [...missingCommands(TOOLS), ...missingPackages(['libtss2-dev:arm64'])];
  if (missing.length) return `npm run check:arm64 needs ${missing.join(', ')}`;
  if (!fs.existsSync(YOLOX_NANO)) return `npm run check:arm64 needs the shared model ${YOLOX_NANO}`;
  if (!fs.existsSync(SHARED_IMAGES) || fs.readdirSync(SHARED_IMAGES).length < 9) return `npm run check:arm64 needs 9 photos in ${SHARED_IMAGES}`;
  return undefined;
}

const skip = unavailable(
  reason(),
  'run scripts/setup as root on amd64 Debian 12 (it installs qemu-user-static binfmt-support debootstrap crossbuild-essential-arm64 libtss2-dev:arm64 swtpm)',
);

// Cold (no .cache): about 8 minutes alone on 2 cores; the deadline leaves room for a loaded machine.
const DEADLINE_MS = 28 * 60_000;

test('npm run check:arm64: the arm64 bundle under qemu matches x64 on 9 frames and signs with the TPM', { skip, timeout: DEADLINE_MS + 60_000 }, async () => {
  const r = await runLong('check:arm64', DEADLINE_MS);
  const tail = `\n--- stderr (end) ---\n${r.stderr.slice(-3000)}\n--- stdout (end) ---\n${r.stdout.slice(-1000)}`;
  assert.equal(r.timedOut, false, `npm run check:arm64 was still running after ${DEADLINE_MS / 60_000} min${tail}`);
  assert.equal(lastLine(r.stdout), 'arm64: 9/9 frames match x64; tpm sign ok', tail);
  assert.equal(r.code, 0, tail);
  // Its duration is part of what it prints, on the line before the verdict.
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[lines.length - 2] ?? '', /^arm64: percept \S+ checked in \d+ s \(the arm64 run of 9 frames under qemu: \d+ s\)$/, tail);
});
