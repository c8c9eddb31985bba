#!/usr/bin/env node
// Prints the configuration reference (docs/configuration.md) generated from the option table
// in src/config/options.ts; with --write, writes it there. Reads the compiled table: build first
// (npx tsc -p tsconfig.json). test/config/reference-doc.test.ts fails when the file is stale.
//
// Usage: node scripts/gen-config-doc.mjs [--write]
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { renderReference } = await import(new URL('../dist/src/config/reference.js', import.meta.url).href);
const text = renderReference();
if (process.argv.includes('--write')) {
  writeFileSync(`${root}docs/configuration.md`, text);
  process.stderr.write('wrote docs/configuration.md\n');
} else {
  process.stdout.write(text);
}
