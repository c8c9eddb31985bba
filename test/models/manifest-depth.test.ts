// A manifest nested far deeper than any real one (200,000 levels) is refused with
// ERR_MANIFEST_INVALID, like any other bad manifest, not with a bare RangeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadManifest } from '../../src/models/index.js';
import { PerceptError } from '../../src/errors.js';
import { tempDir } from '../helpers/paths.js';

test('a manifest nested 200,000 levels deep fails with ERR_MANIFEST_INVALID', async () => {
  const n = 200_000;
  const file = path.join(tempDir(), 'deep.json');
  fs.writeFileSync(file, `{"name":"m","input":${'['.repeat(n)}${']'.repeat(n)}}`);
  await assert.rejects(loadManifest(file), (e: unknown) => {
    assert.ok(PerceptError.is(e, 'ERR_MANIFEST_INVALID'), `got ${String(e)}`);
    assert.match((e as Error).message, /nested too deeply/);
    return true;
  });
});
