// docs/configuration.md is generated from the option table: the committed file must be what
// scripts/gen-config-doc.mjs prints, so the reference cannot drift from the code. Every row is
// in it, and every default the table declares passes the row's own check.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { renderReference } from '../../src/config/reference.js';
import { OPTION_LIST } from '../../src/config/options.js';
import { ROOT } from '../helpers/paths.js';

const DOC = path.join(ROOT, 'docs', 'configuration.md');

test('docs/configuration.md is what the generator prints (run node scripts/gen-config-doc.mjs --write after a change to the table)', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'gen-config-doc.mjs')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, renderReference());
  assert.equal(fs.readFileSync(DOC, 'utf8'), r.stdout, 'docs/configuration.md is stale: run node scripts/gen-config-doc.mjs --write');
});

test('the reference lists every key, variable and flag; every default passes its own check', () => {
  const doc = renderReference();
  for (const o of OPTION_LIST) {
    for (const s of [o.key, o.env, o.flag, ...(o.aliases ?? [])]) assert.ok(doc.includes(`\`${s}`), `${s} is in the reference`);
    if ('default' in o && o.default !== undefined) {
      const d = typeof o.default === 'function' ? (o.default as () => unknown)() : o.default;
      assert.ok(o.type.zod.safeParse(d).success, `the default of ${o.key} is valid`);
    }
  }
});
