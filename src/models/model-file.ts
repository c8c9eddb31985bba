// Finding the ONNX file a manifest names: a path relative to the manifest, an absolute path (the
// loader keeps both inside the manifest's folder), or `npm:<package>/<subpath>` inside an installed
// npm package. A user override (--model-path) wins. Failures are ERR_MODEL_NOT_FOUND with the fix.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PerceptError } from '../errors.js';
import type { ModelManifest } from './types.js';

/**
 * Absolute path of the model file, checked to exist. `override` is relative to the working
 * directory; `overrideOrigin` names where it came from (`--model-path`, `PERCEPT_MODEL_PATH`, a config key).
 */
export function resolveModelFile(manifest: ModelManifest, dir: string, override?: string, overrideOrigin = '--model-path'): string {
  if (override !== undefined && override !== '') {
    return mustExist(path.resolve(override), `${overrideOrigin} ${override}`, `check the path given with ${overrideOrigin}`);
  }
  const file = manifest.file;
  if (file === undefined) {
    throw new PerceptError('ERR_MODEL_NOT_FOUND', `model '${manifest.name}' names no ONNX file (its weights are not shipped); pass --model-path <file.onnx>`);
  }
  if (file.startsWith('npm:')) return resolveNpm(file, dir, manifest.name);
  return mustExist(
    path.resolve(dir, file),
    `model '${manifest.name}' file ${file}`,
    'fix the manifest\'s "file" (relative paths start at the manifest\'s folder) or pass --model-path <file.onnx>',
  );
}

function resolveNpm(spec: string, dir: string, model: string): string {
  const rest = spec.slice('npm:'.length);
  const parts = rest.split('/');
  const nameParts = rest.startsWith('@') ? 2 : 1;
  const pkg = parts.slice(0, nameParts).join('/');
  const subpath = parts.slice(nameParts).join('/');
  if (pkg === '' || subpath === '' || (nameParts === 2 && parts.length < 3)) {
    throw new PerceptError(
      'ERR_MODEL_NOT_FOUND',
      `model '${model}' file '${spec}' is not of the form npm:<package>/<path inside the package>; fix the manifest's "file"`,
    );
  }
  const root = packageRoot(pkg, dir);
  if (root === undefined) {
    throw new PerceptError(
      'ERR_MODEL_NOT_FOUND',
      `model '${model}' lives in the npm package '${pkg}', which is not installed; run \`npm install ${pkg}\` or pass --model-path <file.onnx>`,
    );
  }
  return mustExist(
    path.join(root, subpath),
    `model '${model}' file ${spec}`,
    `package '${pkg}' at ${root} has no ${subpath}; check its version or pass --model-path <file.onnx>`,
  );
}

/** Folder of an installed package, looked up from this project first, then from the manifest's folder. */
function packageRoot(pkg: string, dir: string): string | undefined {
  for (const base of [import.meta.url, path.join(dir, 'manifest.json')]) {
    const require = createRequire(base);
    try {
      return path.dirname(require.resolve(`${pkg}/package.json`));
    } catch {
      // A package whose "exports" hides package.json: look for its folder on the resolution paths.
      for (const p of require.resolve.paths(pkg) ?? []) {
        if (fs.existsSync(path.join(p, pkg, 'package.json'))) return path.join(p, pkg);
      }
    }
  }
  return undefined;
}

function mustExist(file: string, what: string, fix: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new PerceptError('ERR_MODEL_NOT_FOUND', `${what}: ${file} does not exist; ${fix}`);
  }
  if (!stat.isFile()) throw new PerceptError('ERR_MODEL_NOT_FOUND', `${what}: ${file} is not a file; ${fix}`);
  return file;
}
