// Resolves a model reference from the configuration into what a pool needs: the validated
// manifest, the ONNX file and its SHA-256. A source's thresholds are not part of it: they go
// with each of its frames, so sources with different thresholds share one pool.

import crypto from 'node:crypto';
import { originOf, type Config, type ModelRef } from '../config/schema.js';
import type { ModelManifest } from '../models/types.js';
import { loadManifest } from '../models/manifest.js';
import { resolveModelFile } from '../models/model-file.js';
import { FILE_CAPS, readRegularFile } from '../read-file.js';

export interface LoadedModel {
  manifest: ModelManifest;
  path: string;
  sha256: string;
}

/**
 * `cfg`, when the reference is one of its own (the top-level model or a source's): its models
 * folders, and where the name and path came from, for messages.
 */
export async function loadModel(ref: Pick<ModelRef, 'name' | 'path'>, cfg?: Pick<Config, 'modelDirs' | 'origins' | 'model' | 'sources'>): Promise<LoadedModel> {
  const index = cfg?.sources.findIndex((s) => s.model === ref) ?? -1;
  const key = cfg === undefined ? undefined : ref === cfg.model ? 'model' : index >= 0 ? `sources.${index}.model` : undefined;
  const from = (k: string) => (cfg && key ? originOf(cfg, `${key}.${k}`) : undefined);
  const { manifest: base, dir } = await loadManifest(ref.name, { modelDirs: cfg?.modelDirs, origin: from('name') });
  const path = resolveModelFile(base, dir, ref.path, from('path'));
  const bytes = await readRegularFile(path, {
    what: `model file for '${base.name}'`,
    maxBytes: FILE_CAPS.model,
    openCode: 'ERR_MODEL_NOT_FOUND',
    hint: 'pass --model-path <file.onnx>',
  });
  return { manifest: base, path, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
}
