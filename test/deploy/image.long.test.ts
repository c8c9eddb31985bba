// The IoT Edge module image, as CI builds it: `npm run image` builds the amd64 image from the
// Dockerfile with buildah (no Docker engine; its own Debian 12 base when no registry is
// reachable), checks the configuration the Dockerfile promises, runs `percept --version` and
// `percept doctor` inside it as the non-root user percept, then removes the image. Whether it
// passes or is stopped in the middle of the build, it leaves nothing mounted in the checkout's
// .cache (a leftover overlay mount makes the checkout undeletable).
// A long test (*.long.test.ts): scripts/run-tests.mjs starts it at once, beside the others.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/paths.js';
import { unavailable } from '../helpers/requirements.js';
import { lastLine, missingCommands, mountsUnder, notRoot, runLong, unmountUnder } from '../helpers/long-run.js';

const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function reason(): string | undefined {
  const root = notRoot();
  if (root) return `npm run image: ${root}`;
  const missing = missingCommands(['buildah', 'debootstrap']);
  return missing.length ? `npm run image needs ${missing.join(', ')}` : undefined;
}

const skip = unavailable(reason(), 'run scripts/setup as root on amd64 Debian 12 (it installs buildah and debootstrap)');

const DEADLINE_MS = 28 * 60_000;
/** The image stores (.cache/containers-overlay or -vfs, and their run folders). */
const STORES = path.join(ROOT, '.cache', 'containers-');

test('npm run image: percept --version and percept doctor run in the built image as user percept', { skip, timeout: DEADLINE_MS + 60_000 }, async () => {
  try {
    const r = await runLong('image', DEADLINE_MS);
    const tail = `\n--- stderr (end) ---\n${r.stderr.slice(-3000)}\n--- stdout (end) ---\n${r.stdout.slice(-1000)}`;
    assert.equal(r.timedOut, false, `npm run image was still running after ${DEADLINE_MS / 60_000} min${tail}`);
    assert.equal(lastLine(r.stdout), `image: localhost/percept:${VERSION}-amd64 ok (percept ${VERSION}; doctor passed as user percept)`, tail);
    assert.equal(r.code, 0, tail);
    assert.match(r.stderr, new RegExp(`image: percept --version in the image: ${VERSION.replace(/\./g, '\\.')}`));
    // The image holds only this architecture's onnxruntime binaries.
    assert.match(r.stderr, /image: onnxruntime binaries in the image: napi-v\d+\/linux\/x64\n/, tail);
    assert.deepEqual(mountsUnder(STORES), [], 'nothing stays mounted in .cache after a passing run');
  } finally {
    unmountUnder(STORES);
  }
});

test('npm run image stopped in the middle of the build says so and leaves nothing mounted', { skip, timeout: DEADLINE_MS + 60_000 }, async (t) => {
  try {
    let building = 0;
    let mountedAtStop: string[] = [];
    // Stop it once the build has begun: at the first container mount in the store, or 5 s in.
    const r = await runLong('image', DEADLINE_MS, {
      stopWhen: ({ stderr }) => {
        if (!stderr.includes('image: building localhost/percept')) return false;
        building ||= Date.now();
        mountedAtStop = mountsUnder(STORES).filter((m) => m.endsWith('/merged'));
        return mountedAtStop.length > 0 || Date.now() - building > 5000;
      },
    });
    const tail = `\n--- stderr (end) ---\n${r.stderr.slice(-3000)}\n--- stdout (end) ---\n${r.stdout.slice(-1000)}`;
    t.diagnostic(`container mounts when it was stopped: ${mountedAtStop.length}`);
    assert.ok(building > 0, `the build never began${tail}`);
    assert.match(lastLine(r.stdout), /^image: FAILED: exit 143\b/, tail);
    assert.deepEqual(mountsUnder(STORES), [], 'nothing stays mounted in .cache after a stopped run');
  } finally {
    unmountUnder(STORES);
  }
});
