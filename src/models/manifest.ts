// Reading model manifests: validate JSON against the schema, fill derived fields, and load one
// by built-in name (models/<name>.json at the project root) or by path. Every problem becomes
// ERR_MANIFEST_INVALID naming the field, or ERR_MODEL_NOT_FOUND when there is no such manifest.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { PerceptError } from '../errors.js';
import { anchorGrids } from './decoders/anchors.js';
import { decoderOutputNames, manifestSchema, type ParsedManifest } from './schema.js';
import type { DecoderSpec, ModelManifest } from './types.js';

export interface LoadedManifest {
  manifest: ModelManifest;
  /** Folder of the manifest file: relative `file` and `labelsFile` resolve against it. */
  dir: string;
  /** The manifest file that was read. */
  path: string;
}

/** Validate a manifest. `origin` (a file path or a description) appears in error messages. */
export function parseManifest(json: unknown, origin: string): ModelManifest {
  try {
    return validate(json, origin);
  } catch (e) {
    // Validation and error previews recurse: a document nested deeper than the stack is no manifest.
    if (e instanceof RangeError) throw invalid(origin, ['nested too deeply to be a model manifest']);
    throw e;
  }
}

function validate(json: unknown, origin: string): ModelManifest {
  const result = manifestSchema.safeParse(json);
  if (!result.success) throw invalid(origin, result.error.issues.map((i) => describeIssue(i, json)));
  const problems: string[] = [];
  const manifest = complete(result.data, problems);
  if (problems.length > 0) throw invalid(origin, problems);
  return manifest;
}

/** Load a built-in manifest by name (`yolox-nano`) or a manifest file by path (`./my.json`). */
export function loadManifest(nameOrPath: string): LoadedManifest {
  const file = manifestPath(nameOrPath);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const builtins = listBuiltinManifests().join(', ') || 'none';
    throw new PerceptError(
      'ERR_MODEL_NOT_FOUND',
      looksLikePath(nameOrPath)
        ? `cannot read model manifest ${file}: ${(err as Error).message}`
        : `no built-in model '${nameOrPath}' (built-in: ${builtins}); pass one of those or a path to a manifest .json`,
      { cause: err },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalid(file, [`not valid JSON: ${(err as Error).message}`]);
  }
  const dir = path.dirname(file);
  const manifest = parseManifest(json, file);
  if (manifest.labelsFile !== undefined) manifest.labels = readLabels(manifest.labelsFile, dir, file);
  return { manifest, dir, path: file };
}

/** Names of the manifests shipped in models/ at the project root. */
export function listBuiltinManifests(): string[] {
  try {
    return fs
      .readdirSync(path.join(projectRoot(), 'models'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
  } catch {
    return [];
  }
}

/**
 * The project root: the nearest folder above this module holding package.json. Compiled code
 * lives in dist/src/models/ and sources in src/models/, so a fixed number of '..' would break one.
 */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new PerceptError('ERR_MODEL_NOT_FOUND', 'cannot find the percept project root (no package.json above the models module)');
    dir = up;
  }
}

function looksLikePath(s: string): boolean {
  return s.endsWith('.json') || s.includes('/') || s.includes(path.sep);
}

function manifestPath(nameOrPath: string): string {
  if (looksLikePath(nameOrPath)) return path.resolve(nameOrPath);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(nameOrPath)) {
    throw new PerceptError('ERR_MODEL_NOT_FOUND', `'${nameOrPath}' is neither a built-in model name nor a path to a manifest .json`);
  }
  return path.join(projectRoot(), 'models', `${nameOrPath}.json`);
}

function readLabels(labelsFile: string, dir: string, origin: string): string[] {
  const file = path.resolve(dir, labelsFile);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw invalid(origin, [`labelsFile: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}); the path is relative to the manifest`]);
  }
  const lines = text.split(/\r?\n/);
  // Only trailing blank lines are dropped: a blank line inside the file still holds a class index.
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  return lines.map((l) => l.trim());
}

/** Cross-field checks the schema cannot express, and derived fields filled in. */
function complete(p: ParsedManifest, problems: string[]): ModelManifest {
  if (p.labels !== undefined && p.labelsFile !== undefined) problems.push('labels, labelsFile: give one of them, not both');
  const named = decoderOutputNames(p.decoder);
  const outputs = p.outputs ?? named;
  for (const n of named) {
    if (!outputs.includes(n)) problems.push(`outputs: decoder reads output '${n}' which is not listed in outputs [${outputs.join(', ')}]; add it`);
  }
  const decoder: DecoderSpec = { ...p.decoder };
  if ((decoder.type === 'yolox' || decoder.type === 'yolov5' || decoder.type === 'yolov8' || decoder.type === 'classification') && decoder.output === undefined) {
    if (outputs.length === 1) decoder.output = outputs[0];
    else if (outputs.length === 0) problems.push(`decoder.output: expected the name of the model output the ${decoder.type} decoder reads (or list it in outputs)`);
    else problems.push(`decoder.output: outputs lists ${outputs.length} names; say which one the ${decoder.type} decoder reads`);
  }
  if (decoder.type === 'blazeface') {
    const grids = anchorGrids(p.input.width, p.input.height, decoder.strides, decoder.anchorsPerCell);
    if (grids === undefined) {
      problems.push(`decoder.anchorsPerCell: expected one count per distinct stride or one per stride in [${decoder.strides.join(', ')}], got ${decoder.anchorsPerCell.length}`);
    } else {
      if (decoder.scores.length !== grids.length) problems.push(`decoder.scores: expected ${grids.length} output names (one per anchor grid), got ${decoder.scores.length}`);
      if (decoder.boxes.length !== grids.length) problems.push(`decoder.boxes: expected ${grids.length} output names (one per anchor grid), got ${decoder.boxes.length}`);
    }
  }
  const manifest: ModelManifest = {
    name: p.name,
    version: p.version,
    input: p.input,
    outputs,
    labels: p.labels ?? [],
    decoder,
  };
  if (p.description !== undefined) manifest.description = p.description;
  if (p.file !== undefined) manifest.file = p.file;
  if (p.labelsFile !== undefined) manifest.labelsFile = p.labelsFile;
  return manifest;
}

function invalid(origin: string, problems: string[]): PerceptError {
  return new PerceptError('ERR_MANIFEST_INVALID', `invalid model manifest ${origin}: ${problems.join('; ')}`);
}

function describeIssue(issue: z.core.$ZodIssue, json: unknown): string {
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
  let text = `${where}: ${issue.message}`;
  const value = valueAt(json, issue.path);
  if (value.found && issue.code !== 'unrecognized_keys') {
    text += `, got ${preview(value.value)}`;
  }
  return text;
}

function valueAt(json: unknown, at: readonly PropertyKey[]): { found: boolean; value?: unknown } {
  let cur: unknown = json;
  for (const key of at) {
    if (typeof cur !== 'object' || cur === null || !(key in cur)) return { found: false };
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return { found: true, value: cur };
}

function preview(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
