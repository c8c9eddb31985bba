// Reading model manifests: validate JSON against the schema, fill derived fields, and load one
// by name (a models folder, then models/<name>.json at the project root) or by path. Every
// problem becomes ERR_MANIFEST_INVALID naming the field, or ERR_MODEL_NOT_FOUND when there is none.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { PerceptError } from '../errors.js';
import { FILE_CAPS, readRegularFile } from '../read-file.js';
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
  if (!result.success)
    throw invalid(
      origin,
      result.error.issues.map((i) => describeIssue(i, json)),
    );
  const problems: string[] = [];
  const manifest = complete(result.data, problems);
  if (problems.length > 0) throw invalid(origin, problems);
  return manifest;
}

export interface ManifestOptions {
  /**
   * Folders of the operator's own manifests: a plain name is looked up there before the
   * built-in models/, and a manifest's `file` and `labelsFile` may point into them as well as
   * into the manifest's own folder.
   */
  modelDirs?: readonly string[];
  /** Where the name or path came from (`--model`, a config key), for messages. */
  origin?: string;
}

/**
 * Load a built-in manifest by name (`yolox-nano`), one from a models folder by name, or a
 * manifest file by path (`./my.json`). Reads are asynchronous, of regular files only, capped.
 */
export async function loadManifest(nameOrPath: string, opts: ManifestOptions = {}): Promise<LoadedManifest> {
  const modelDirs = (opts.modelDirs ?? []).map((d) => path.resolve(d));
  const file = await manifestPath(nameOrPath, modelDirs);
  const from = opts.origin !== undefined ? ` given with ${opts.origin}` : '';
  const hint = looksLikePath(nameOrPath) ? `check the path of the manifest${from}` : `check the models folder`;
  const text = (await readRegularFile(file, { what: 'model manifest', maxBytes: FILE_CAPS.manifest, openCode: 'ERR_MODEL_NOT_FOUND', hint })).toString('utf8');
  const dir = path.dirname(file);
  const manifest = parseManifest(parseJson(text, file), file);
  manifest.manifestFile = file;
  const roots = [dir, ...modelDirs];
  if (manifest.file !== undefined && !manifest.file.startsWith('npm:')) {
    confine(manifest.file, 'file', roots, file);
  }
  if (manifest.labelsFile !== undefined) {
    confine(manifest.labelsFile, 'labelsFile', roots, file);
    manifest.labels = await readLabels(manifest.labelsFile, dir, file);
  }
  return { manifest, dir, path: file };
}

/**
 * JSON.parse's message quotes the start of the text: a manifest path pointing at a secret must
 * not carry it into an error, a log or a reported property, so only the kind of failure is kept.
 */
function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const early = /end of (JSON )?input/i.test((err as Error).message);
    throw invalid(file, [`not valid JSON${early ? ' (it ends early)' : ''}; check it with a JSON validator`]);
  }
}

/**
 * A manifest's `file` and `labelsFile` stay inside its folder or a models folder, checked on the
 * real paths (symbolic links followed): a manifest cannot point percept at any file of the system.
 */
export function confine(rel: string, key: string, roots: readonly string[], origin: string): string {
  const [root] = roots;
  if (root === undefined) throw new PerceptError('ERR_MANIFEST_INVALID', `${origin}: ${key} cannot be checked: no folder to resolve it against`);
  const target = path.resolve(root, rel);
  const inside = (t: string, rs: readonly string[]) => rs.some((r) => t === r || t.startsWith(r.endsWith(path.sep) ? r : r + path.sep));
  // The plain path is checked first, so a path outside says nothing about what exists there.
  let ok = inside(target, roots);
  if (ok) {
    const real = (p: string) => {
      try {
        return fs.realpathSync(p);
      } catch {
        return p;
      }
    };
    ok = inside(real(target), roots.map(real));
  }
  if (!ok) {
    throw invalid(origin, [
      `${key}: '${rel}' lies outside the manifest's folder ${roots[0]}${roots.length > 1 ? ' and the models folders' : ''}; put the file next to the manifest (or in a folder listed in modelDirs)`,
    ]);
  }
  return target;
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

/** A plain model name: what the twin may give, resolved only inside known folders. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function looksLikePath(s: string): boolean {
  return s.endsWith('.json') || s.includes('/') || s.includes(path.sep);
}

async function manifestPath(nameOrPath: string, modelDirs: readonly string[]): Promise<string> {
  if (looksLikePath(nameOrPath)) return path.resolve(nameOrPath);
  if (!MODEL_NAME.test(nameOrPath)) {
    throw new PerceptError('ERR_MODEL_NOT_FOUND', `'${nameOrPath}' is neither a built-in model name nor a path to a manifest .json`);
  }
  for (const d of modelDirs) {
    const candidate = path.join(d, `${nameOrPath}.json`);
    if (
      await fs.promises.stat(candidate).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  const builtin = path.join(projectRoot(), 'models', `${nameOrPath}.json`);
  if (!fs.existsSync(builtin)) {
    const builtins = listBuiltinManifests().join(', ') || 'none';
    const where = modelDirs.length > 0 ? ` and none in the models folders (${modelDirs.join(', ')})` : '';
    throw new PerceptError(
      'ERR_MODEL_NOT_FOUND',
      `no built-in model '${nameOrPath}' (built-in: ${builtins})${where}; pass one of those or a path to a manifest .json`,
    );
  }
  return builtin;
}

async function readLabels(labelsFile: string, dir: string, origin: string): Promise<string[]> {
  const file = path.resolve(dir, labelsFile);
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file, {
      what: 'labels file',
      maxBytes: FILE_CAPS.labels,
      openCode: 'ERR_MANIFEST_INVALID',
      hint: 'the path is relative to the manifest',
    });
  } catch (err) {
    if (PerceptError.is(err, 'ERR_MANIFEST_INVALID')) {
      throw invalid(origin, [
        `labelsFile: cannot read ${file} (${((err as Error).cause as NodeJS.ErrnoException)?.code ?? 'error'}); the path is relative to the manifest`,
      ]);
    }
    throw err;
  }
  const lines = bytes.toString('utf8').split(/\r?\n/);
  // Only trailing blank lines are dropped: a blank line inside the file still holds a class index.
  while (lines.length > 0 && lines[lines.length - 1]?.trim() === '') lines.pop();
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
  if (
    (decoder.type === 'yolox' || decoder.type === 'yolov5' || decoder.type === 'yolov8' || decoder.type === 'classification') &&
    decoder.output === undefined
  ) {
    if (outputs.length === 1) decoder.output = outputs[0];
    else if (outputs.length === 0)
      problems.push(`decoder.output: expected the name of the model output the ${decoder.type} decoder reads (or list it in outputs)`);
    else problems.push(`decoder.output: outputs lists ${outputs.length} names; say which one the ${decoder.type} decoder reads`);
  }
  if (decoder.type === 'blazeface') {
    const grids = anchorGrids(p.input.width, p.input.height, decoder.strides, decoder.anchorsPerCell);
    if (grids === undefined) {
      problems.push(
        `decoder.anchorsPerCell: expected one count per distinct stride or one per stride in [${decoder.strides.join(', ')}], got ${decoder.anchorsPerCell.length}`,
      );
    } else {
      if (decoder.scores.length !== grids.length)
        problems.push(`decoder.scores: expected ${grids.length} output names (one per anchor grid), got ${decoder.scores.length}`);
      if (decoder.boxes.length !== grids.length)
        problems.push(`decoder.boxes: expected ${grids.length} output names (one per anchor grid), got ${decoder.boxes.length}`);
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
