// The device runtime stands apart from the tools: what `percept run` loads (statically or
// through a dynamic import) never reaches the emulator, the bench or the verifier, and needs
// no package that a production install (npm ci --omit=dev) leaves out.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';
import { ROOT } from '../helpers/paths.js';

const DIST = path.join(ROOT, 'dist', 'src');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
// Static and dynamic imports, CommonJS requires, and worker files (`new URL('./x.js', import.meta.url)`).
const IMPORT =
  /(?:^|[;\s])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]|\brequire(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)|new URL\(\s*['"](\.[^'"]+\.js)['"]\s*,\s*import\.meta\.url\s*\)/gm;

/** Every project file and package the entry reaches, with the path that reached it. */
function reach(entry: string): { files: Map<string, string[]>; packages: Map<string, string[]> } {
  const files = new Map<string, string[]>([[entry, [entry]]]);
  const packages = new Map<string, string[]>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5];
      if (!spec) continue;
      const via = [...files.get(file)!, spec];
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec);
        if (!files.has(target)) {
          files.set(target, via);
          todo.push(target);
        }
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec);
        if (!packages.has(name)) packages.set(name, via);
      }
    }
  }
  return { files, packages };
}

const rel = (f: string) => path.relative(DIST, f);

test('percept run reaches neither the emulator, the bench nor the verifier', () => {
  const { files } = reach(path.join(DIST, 'cli', 'run.js'));
  assert.ok(files.has(path.join(DIST, 'agent', 'run.js')), 'the walk reaches the agent');
  assert.ok(files.size > 20, `the walk found the agent's modules (${files.size})`);
  for (const [file, via] of files) {
    const r = rel(file);
    assert.ok(
      !/^(emulator|bench)\//.test(r) && !/^attest\/verify/.test(r),
      `${r} is a tool, reached from the agent through ${via.map((v) => path.basename(v)).join(' -> ')}`,
    );
  }
});

test("every package the agent loads is a production dependency; the emulator's are not", () => {
  const { packages } = reach(path.join(DIST, 'cli', 'run.js'));
  for (const [name, via] of packages) {
    assert.ok(name in pkg.dependencies, `${name} (through ${via.map((v) => path.basename(v)).join(' -> ')}) is not in dependencies`);
  }
  for (const tool of ['aedes', 'node-forge', 'ws']) assert.ok(!(tool in pkg.dependencies), `${tool} is the emulator's, a devDependency`);
  // The walk sees the runtime's real packages, so the check above is not vacuous.
  for (const real of ['onnxruntime-node', 'sharp', 'azure-iot-device', 'azure-iot-device-mqtt', 'better-sqlite3'])
    assert.ok(packages.has(real), `the walk reaches ${real}`);
});
