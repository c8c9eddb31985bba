// An inference worker loads sharp, onnxruntime-node and the project's own preprocessing and
// decoders, nothing else. A larger heap in the worker (the manifest schema's zod, the
// logger) makes V8 run a full collection every few dozen frames instead of every few
// hundred, which costs throughput and tail latency. This walks the compiled import graph.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/paths.js';
import { at } from '../helpers/at.js';

const IMPORT = /(?:^|[;\s])(?:import|export)\s*(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importGraph(entry: string): { files: string[]; packages: Set<string> } {
  const files: string[] = [];
  const packages = new Set<string>();
  const todo = [entry];
  const seen = new Set<string>();
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    files.push(path.relative(ROOT, file));
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = at(m, 1) ?? at(m, 2);
      if (spec.startsWith('.')) todo.push(path.resolve(path.dirname(file), spec));
      else packages.add(spec);
    }
  }
  return { files, packages };
}

for (const entry of ['dist/src/inference/worker.js', 'dist/src/bench/single-thread-worker.js']) {
  test(`${entry} imports only sharp, onnxruntime-node, node built-ins and lean project modules`, () => {
    const { files, packages } = importGraph(path.join(ROOT, entry));
    const foreign = [...packages].filter((p) => !p.startsWith('node:') && p !== 'sharp' && p !== 'onnxruntime-node');
    assert.deepEqual(foreign, [], `packages a worker must not load: ${foreign.join(', ')}`);
    for (const heavy of ['dist/src/models/index.js', 'dist/src/models/schema.js', 'dist/src/models/manifest.js', 'dist/src/log.js']) {
      assert.ok(!files.includes(heavy), `${entry} reaches ${heavy} (through ${files.join(' -> ')})`);
    }
    assert.ok(files.includes('dist/src/inference/preprocess.js'), 'the walk follows relative imports');
  });
}

test('the import walk sees through index.js to zod (the check can fail)', () => {
  const { packages } = importGraph(path.join(ROOT, 'dist/src/models/index.js'));
  assert.ok(packages.has('zod'));
});
