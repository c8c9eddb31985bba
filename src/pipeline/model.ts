// Resolves a model reference from the configuration into what a pool needs: the validated
// manifest, the ONNX file and its SHA-256. A source's thresholds are not part of it: they go
// with each of its frames, so sources with different thresholds share one pool.

import fs from 'node:fs';
import crypto from 'node:crypto';
import type { ModelRef } from '../config/schema.js';
import type { ModelManifest } from '../models/types.js';
import { loadManifest } from '../models/manifest.js';
import { resolveModelFile } from '../models/model-file.js';
import { PerceptError } from '../errors.js';

export interface LoadedModel {
  manifest: ModelManifest;
  path: string;
  sha256: string;
}

export function loadModel(ref: Pick<ModelRef, 'name' | 'path'>): LoadedModel {
  const { manifest: base, dir } = loadManifest(ref.name);
  const path = resolveModelFile(base, dir, ref.path);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new PerceptError('ERR_MODEL_NOT_FOUND', `model file ${path} for '${base.name}' cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); pass --model-path <file.onnx>`);
  }
  return { manifest: base, path, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
}
