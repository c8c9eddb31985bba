// Resolves a model reference from the configuration into what a pool needs: the validated
// manifest (with the configured thresholds applied), the ONNX file and its SHA-256.

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

export function loadModel(ref: ModelRef): LoadedModel {
  const { manifest: base, dir } = loadManifest(ref.name);
  const path = resolveModelFile(base, dir, ref.path);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new PerceptError('ERR_MODEL_NOT_FOUND', `model file ${path} for '${base.name}' cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); pass --model-path <file.onnx>`);
  }
  const decoder = { ...base.decoder } as ModelManifest['decoder'];
  if (ref.scoreThreshold !== undefined) decoder.scoreThreshold = ref.scoreThreshold;
  if (ref.iou !== undefined && 'nms' in decoder) decoder.nms = { ...decoder.nms, iou: ref.iou };
  return { manifest: { ...base, decoder }, path, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
}
