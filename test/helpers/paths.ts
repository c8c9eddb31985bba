// Where tests find the project, the shared models and images, and a scratch folder.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';

/** Project root (tests run from dist/test/...). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SHARED = path.resolve(ROOT, '../shared');
export const SHARED_MODELS = path.join(SHARED, 'models');
export const SHARED_IMAGES = path.join(SHARED, 'testdata', 'images');
export const YOLOX_NANO = path.join(SHARED_MODELS, 'yolox_nano.onnx');
export const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');

export function image(name: string): string {
  return path.join(SHARED_IMAGES, name);
}

/** A fresh temporary folder, removed when the process exits. */
export function tempDir(prefix = 'percept-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
