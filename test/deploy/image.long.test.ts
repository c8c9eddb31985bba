// The IoT Edge module image, as CI builds it: `npm run image` builds the amd64 image from the
// Dockerfile with buildah (no Docker engine; its own Debian 12 base when no registry is
// reachable), checks the configuration the Dockerfile promises, runs `percept --version` and
// `percept doctor` inside it as the non-root user percept, then removes the image.
// A long test (*.long.test.ts): scripts/run-tests.mjs starts it at once, beside the others.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/paths.js';
import { unavailable } from '../helpers/requirements.js';
import { lastLine, missingCommands, notRoot, runLong } from '../helpers/long-run.js';

const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function reason(): string | undefined {
  const root = notRoot();
  if (root) return `npm run image: ${root}`;
  const missing = missingCommands(['buildah', 'debootstrap']);
  return missing.length ? `npm run image needs ${missing.join(', ')}` : undefined;
}

const skip = unavailable(reason(), 'run scripts/setup as root on amd64 Debian 12 (it installs buildah and debootstrap)');

const DEADLINE_MS = 28 * 60_000;

test('npm run image: percept --version and percept doctor run in the built image as user percept', { skip, timeout: DEADLINE_MS + 60_000 }, async () => {
  const r = await runLong('image', DEADLINE_MS);
  const tail = `\n--- stderr (end) ---\n${r.stderr.slice(-3000)}\n--- stdout (end) ---\n${r.stdout.slice(-1000)}`;
  assert.equal(r.timedOut, false, `npm run image was still running after ${DEADLINE_MS / 60_000} min${tail}`);
  assert.equal(lastLine(r.stdout), `image: localhost/percept:${VERSION}-amd64 ok (percept ${VERSION}; doctor passed as user percept)`, tail);
  assert.equal(r.code, 0, tail);
  assert.match(r.stderr, new RegExp(`image: percept --version in the image: ${VERSION.replace(/\./g, '\\.')}`));
});
