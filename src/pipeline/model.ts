// Resolves a model reference from the configuration into what a pool needs: the validated
// manifest, the ONNX file and its SHA-256. A source's thresholds are not part of it: they go
// with each of its frames, so sources with different thresholds share one pool.

import crypto from 'node:crypto';
import type { ModelRef } from '../config/schema.js';
import type { ModelManifest } from '../models/types.js';
import { loadManifest } from '../models/manifest.js';
import { resolveModelFile } from '../models/model-file.js';
import { FILE_CAPS, readRegularFile } from '../read-file.js';

export interface LoadedModel {
  manifest: ModelManifest;
  path: string;
  sha256: string;
}

/** `modelDirs`: the operator's folders of manifests (config `modelDirs`). */
export async function loadModel(ref: Pick<ModelRef, 'name' | 'path'>, modelDirs: readonly string[] = []): Promise<LoadedModel> {
  const { manifest: base, dir } = await loadManifest(ref.name, { modelDirs });
  const path = resolveModelFile(base, dir, ref.path);
  const bytes = await readRegularFile(path, { what: `model file for '${base.name}'`, maxBytes: FILE_CAPS.model, openCode: 'ERR_MODEL_NOT_FOUND', hint: 'pass --model-path <file.onnx>' });
  return { manifest: base, path, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
}
