// Model packages: recognising what an unpacked package holds (percept's own manifest, Azure
// Percept's config.json, an Azure Custom Vision ONNX export) and turning each into one percept
// manifest file in the package's folder; plus the package's hash and ECDSA P-256 signature.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PerceptError } from '../errors.js';
import { parseManifest } from './manifest.js';
import { writeZip } from './zip-write.js';

/** The manifest written into a staged package folder; the pipeline loads the model through it. */
export const STAGED_MANIFEST = 'percept-staged.json';

export type PackageKind = 'percept' | 'azure-percept' | 'custom-vision';

export interface PreparedPackage {
  kind: PackageKind;
  manifestPath: string;
  name: string;
  version: string;
}

/** What the model's graph declares; read with onnxruntime when a package brings no manifest. */
export interface GraphInfo {
  inputs: Array<{ name: string; shape?: ReadonlyArray<number | string> }>;
  outputs: string[];
}
export type Inspect = (onnxFile: string) => Promise<GraphInfo>;

async function inspectWithOrt(onnxFile: string): Promise<GraphInfo> {
  const ort = await import('onnxruntime-node');
  const s = await ort.InferenceSession.create(onnxFile, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  try {
    const meta = s.inputMetadata as ReadonlyArray<{ name: string; shape?: ReadonlyArray<number | string> }>;
    return { inputs: s.inputNames.map((n) => ({ name: n, shape: meta.find((m) => m.name === n)?.shape })), outputs: [...s.outputNames] };
  } finally {
    await s.release();
  }
}

function layout(msg: string): PerceptError {
  return new PerceptError('ERR_PACKAGE_LAYOUT', `model package: ${msg}`);
}

/** The file at `rel` inside `dir`, which must be a regular file there (the unpacker wrote no links). */
function member(dir: string, rel: string, what: string): string {
  const p = path.resolve(dir, rel);
  if (!p.startsWith(dir + path.sep) || !fs.existsSync(p) || !fs.lstatSync(p).isFile()) {
    throw layout(`${what} '${rel}' is not a file in the package; build the package again with it`);
  }
  return p;
}

/** An ONNX model is a protobuf ModelProto, which starts with field 1 (ir_version), a small varint. */
export function assertOnnx(file: string, rel: string): void {
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(2);
  try {
    fs.readSync(fd, head, 0, 2, 0);
  } finally {
    fs.closeSync(fd);
  }
  const [tag = 0, length = 0] = head;
  if (!rel.toLowerCase().endsWith('.onnx') || tag !== 0x08 || length === 0 || length > 64) {
    throw new PerceptError(
      'ERR_PACKAGE_NOT_ONNX',
      `model package: '${rel}' is not an ONNX model; percept runs ONNX only (export the model to ONNX; OpenVINO IR and blobs are not read)`,
    );
  }
}

function readLabels(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

function readJson(file: string, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // Said below, without quoting the text.
  }
  throw layout(`${what} is not a JSON object`);
}

/**
 * Recognises the package unpacked in `dir` and writes STAGED_MANIFEST there. `fallbackName`
 * names a model whose package does not (Percept's and Custom Vision's formats carry no name).
 */
export async function preparePackage(dir: string, opts: { fallbackName: string; inspect?: Inspect }): Promise<PreparedPackage> {
  dir = path.resolve(dir);
  const has = (f: string) => fs.existsSync(path.join(dir, f));
  const inspect = opts.inspect ?? inspectWithOrt;
  let kind: PackageKind;
  let manifest: Record<string, unknown>;
  if (has('percept-model.json')) {
    kind = 'percept';
    manifest = readJson(path.join(dir, 'percept-model.json'), 'percept-model.json');
    const file = manifest.file;
    if (typeof file !== 'string' || file.startsWith('npm:')) throw layout('percept-model.json\'s "file" must name the ONNX file inside the package');
    assertOnnx(member(dir, file, 'model file'), file);
    if (typeof manifest.labelsFile === 'string') member(dir, manifest.labelsFile, 'labels file');
  } else if (has('config.json')) {
    kind = 'azure-percept';
    const cfg = readJson(path.join(dir, 'config.json'), 'config.json');
    const modelFile = cfg.ModelFileName;
    if (typeof modelFile !== 'string' || modelFile === '') throw layout('config.json has no ModelFileName; name the ONNX file of the package there');
    const onnx = member(dir, modelFile, 'ModelFileName');
    assertOnnx(onnx, modelFile);
    const labelsRel = typeof cfg.LabelFileName === 'string' && cfg.LabelFileName !== '' ? cfg.LabelFileName : undefined;
    const labels = labelsRel ? readLabels(member(dir, labelsRel, 'LabelFileName')) : undefined;
    const domain = typeof cfg.DomainType === 'string' ? cfg.DomainType : '';
    manifest = fromDomain(domain, await inspect(onnx), modelFile, labels, opts.fallbackName);
  } else if (has('cvexport.manifest')) {
    kind = 'custom-vision';
    // A JSON document: {"DomainType": "ObjectDetection", "Platform": "ONNX", "ModelFileName":
    // "model.onnx", "LabelFileName": "labels.txt", ...}; its DomainType maps as config.json's does.
    const cv = readJson(path.join(dir, 'cvexport.manifest'), 'cvexport.manifest');
    const platform = typeof cv.Platform === 'string' ? cv.Platform : 'ONNX';
    if (platform.toLowerCase() !== 'onnx')
      throw new PerceptError(
        'ERR_PACKAGE_NOT_ONNX',
        `model package: cvexport.manifest says Platform '${platform.slice(0, 40)}'; percept runs ONNX only (export the Custom Vision iteration as ONNX)`,
      );
    const domain = typeof cv.DomainType === 'string' ? cv.DomainType : '';
    if (domain === '') throw layout('cvexport.manifest has no DomainType; export the Custom Vision iteration again');
    const modelFile = typeof cv.ModelFileName === 'string' && cv.ModelFileName !== '' ? cv.ModelFileName : 'model.onnx';
    const labelsFile = typeof cv.LabelFileName === 'string' && cv.LabelFileName !== '' ? cv.LabelFileName : 'labels.txt';
    const onnx = member(dir, modelFile, 'Custom Vision model');
    assertOnnx(onnx, modelFile);
    if (!has(labelsFile)) throw layout(`a Custom Vision export holds its labels in '${labelsFile}', which the package lacks`);
    const labels = readLabels(member(dir, labelsFile, 'labels'));
    const graph = await inspect(onnx);
    if (graph.outputs.includes('model_outputs0')) {
      // The older compact exports: a raw YOLOv2 grid with anchors baked into Custom Vision's own post-processing.
      throw unsupported(
        'custom vision (model_outputs0)',
        'it is the older YOLOv2-style export whose grid percept does not decode; export the iteration again with a compact (S1) domain',
      );
    }
    manifest = fromDomain(domain, graph, modelFile, labels, opts.fallbackName);
  } else {
    throw layout(
      `neither percept-model.json, config.json (Azure Percept) nor cvexport.manifest (Custom Vision) at its top${has('model.onnx') ? " (a model.onnx alone does not say how to read the model's outputs)" : ''}; build it with \`percept model pack\``,
    );
  }
  const out = path.join(dir, STAGED_MANIFEST);
  try {
    const parsed = parseManifest(manifest, `the package's ${kind === 'percept' ? 'percept-model.json' : 'derived manifest'}`);
    fs.writeFileSync(out, JSON.stringify(manifest, null, 2));
    return { kind, manifestPath: out, name: parsed.name, version: parsed.version };
  } catch (e) {
    if (PerceptError.is(e, 'ERR_MANIFEST_INVALID')) throw new PerceptError('ERR_MANIFEST_INVALID', `model package: ${e.message}`);
    throw e;
  }
}

/** Input geometry from the graph: NCHW [1,3,H,W] or NHWC [1,H,W,3]; symbolic sizes take `dflt`. */
function inputOf(g: GraphInfo, dflt: number): Record<string, unknown> {
  const i = g.inputs[0];
  if (!i) throw layout('the model has no input');
  const s = (i.shape ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : 0));
  const nhwc = s.length === 4 && s[3] === 3 && s[1] !== 3;
  const [h, w] = nhwc ? [s[1], s[2]] : [s[2], s[3]];
  return { name: i.name, layout: nhwc ? 'NHWC' : 'NCHW', width: w || dflt, height: h || dflt };
}

/**
 * A manifest for an Azure Percept / Custom Vision `DomainType`. Only the ones whose ONNX outputs
 * a percept decoder reads are mapped; any other is refused with ERR_PACKAGE_UNSUPPORTED.
 */
export function fromDomain(domain: string, g: GraphInfo, file: string, labels: string[] | undefined, name: string): Record<string, unknown> {
  const d = domain.toLowerCase();
  const find = (re: RegExp) => g.outputs.find((o) => re.test(o));
  if (d === 's1' || d === 'onnxssd' || d === 'objectdetection') {
    // Custom Vision's compact (S1) export: detected_boxes [1,N,4] normalised xyxy,
    // detected_scores [1,N], detected_classes [1,N]; TF-style SSD exports: yxyx plus a count.
    const boxes = find(/box/i);
    const scores = find(/score/i);
    const classes = find(/class/i);
    if (!boxes || !scores) throw unsupported(domain, `its outputs [${g.outputs.join(', ')}] have no boxes and scores to decode`);
    const cv = boxes === 'detected_boxes';
    return {
      name,
      file,
      input: { ...inputOf(g, 320), colorOrder: cv ? 'BGR' : 'RGB', scale: 1, resize: 'stretch' },
      outputs: g.outputs,
      labels,
      decoder: { type: 'ssd', boxes, scores, classes, count: find(/num/i), boxFormat: cv ? 'xyxy' : 'yxyx', boxUnits: 'normalized' },
    };
  }
  if (d === 'classification') {
    const output = g.outputs.find((o) => /loss|prob|output|score/i.test(o)) ?? g.outputs[0];
    return {
      name,
      file,
      input: { ...inputOf(g, 224), colorOrder: 'BGR', resize: 'stretch' },
      outputs: [output],
      labels,
      decoder: { type: 'classification', output },
    };
  }
  throw unsupported(domain, 'percept has no decoder for it');
}

function unsupported(domain: string, why: string): PerceptError {
  return new PerceptError(
    'ERR_PACKAGE_UNSUPPORTED',
    `model package: DomainType '${domain.slice(0, 64)}' is not supported (${why}); percept decodes Custom Vision 's1' / 'onnxssd' detection and 'classification' exports, or give the package a percept-model.json`,
  );
}

/** Hex SHA-256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * The package signature: ECDSA P-256 with SHA-256 over the 32 raw bytes of the package's
 * SHA-256 digest (what `openssl dgst -sha256 -sign key.pem digest.bin` makes), DER-encoded,
 * base64. Verification also takes the 64-byte IEEE P1363 form (r||s) some HSMs emit.
 */
export function signDigest(sha256Hex: string, privateKeyPem: string): string {
  const key = crypto.createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new PerceptError('ERR_USAGE', 'the signing key is not an EC P-256 key; make one with `openssl ecparam -name prime256v1 -genkey -noout -out key.pem`');
  }
  return crypto.sign('sha256', Buffer.from(sha256Hex, 'hex'), { key, dsaEncoding: 'der' }).toString('base64');
}

/** True when `signatureB64` is a valid signature of the digest by one of `trustedPems`. */
export function verifyDigest(sha256Hex: string, signatureB64: string, trustedPems: readonly string[]): boolean {
  const sig = Buffer.from(signatureB64, 'base64');
  const data = Buffer.from(sha256Hex, 'hex');
  for (const pem of trustedPems) {
    try {
      const key = crypto.createPublicKey(pem);
      if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') continue;
      if (crypto.verify('sha256', data, { key, dsaEncoding: sig.length === 64 ? 'ieee-p1363' : 'der' }, sig)) return true;
    } catch {
      // A malformed key or signature is a failed verification, not a crash.
    }
  }
  return false;
}

export interface PackInput {
  manifestPath: string;
  modelPath: string;
  labelsPath?: string;
  /** PEM of an EC P-256 private key: the package is then signed. */
  signKeyPem?: string;
}

/**
 * Builds a percept package: `percept-model.json` (the manifest, its `file` and `labelsFile`
 * naming the files beside it in the zip), the ONNX file and the labels. Returns the zip and what
 * the twin needs: its sha256, size and, with a key, its signature.
 */
export function buildPackage(p: PackInput): { zip: Buffer; sha256: string; size: number; signature?: string } {
  const manifest = readJson(p.manifestPath, `manifest ${p.manifestPath}`);
  parseManifest(manifest, p.manifestPath);
  const modelName = path.basename(p.modelPath);
  assertOnnx(p.modelPath, modelName);
  const entries = [{ name: modelName, data: fs.readFileSync(p.modelPath) }];
  const labels = p.labelsPath ?? (typeof manifest.labelsFile === 'string' ? path.resolve(path.dirname(p.manifestPath), manifest.labelsFile) : undefined);
  const out: Record<string, unknown> = { ...manifest, file: modelName };
  delete out.$schema;
  if (labels) {
    const name = path.basename(labels);
    if (name === modelName || name === 'percept-model.json') throw new PerceptError('ERR_USAGE', `the labels file may not be called '${name}'; rename it`);
    entries.push({ name, data: fs.readFileSync(labels) });
    out.labelsFile = name;
  }
  entries.unshift({ name: 'percept-model.json', data: Buffer.from(JSON.stringify(out, null, 2) + '\n') });
  const zip = writeZip(entries);
  const sha256 = crypto.createHash('sha256').update(zip).digest('hex');
  return { zip, sha256, size: zip.length, ...(p.signKeyPem ? { signature: signDigest(sha256, p.signKeyPem) } : {}) };
}
