// What `percept doctor` checks: what this machine offers the agent (ffmpeg, cameras, the ONNX
// Runtime and its providers, sharp, models, demo photos, the TPM, the state folder and signing
// key), each check with what to do about it when it fails.

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { keyIdOf } from '../attest/signer.js';
import { StateLock } from '../state/lock.js';
import { ensurePrivateDir } from '../state/modes.js';

export interface Check {
  name: string;
  ok: boolean;
  /** Required for the agent's defaults; the rest is optional. */
  required: boolean;
  detail: string;
  fix?: string;
}

export async function checks(opts: { tcti?: string; stateDir: string; signer: string; keyFile: string }): Promise<Check[]> {
  const out: Check[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  out.push({ name: 'node', ok: major >= 20, required: true, detail: process.version, fix: 'install Node.js 20 or newer' });

  const ff = spawnSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' });
  out.push({
    name: 'ffmpeg',
    ok: ff.status === 0,
    required: false,
    detail: ff.status === 0 ? firstLine(ff.stdout) : 'not found',
    fix: 'apt-get install ffmpeg (needed for webcams, streams, video files)',
  });

  const { cameraCheck } = await import('../capture/cameras.js');
  const cams = await cameraCheck();
  out.push({ name: 'cameras', required: false, ...cams });

  try {
    const ort = await import('onnxruntime-node');
    const backends = ort.listSupportedBackends().map((b: { name: string; bundled: boolean }) => `${b.name}${b.bundled ? '' : ' (not bundled)'}`);
    out.push({ name: 'onnxruntime-node', ok: true, required: true, detail: `backends: ${backends.join(', ')}` });
  } catch (e) {
    out.push({
      name: 'onnxruntime-node',
      ok: false,
      required: true,
      detail: firstLine((e as Error).message),
      fix: 'run scripts/setup (npm ci with ONNXRUNTIME_NODE_INSTALL=skip)',
    });
  }

  try {
    const sharp = (await import('sharp')).default;
    out.push({ name: 'sharp', ok: true, required: true, detail: `libvips ${sharp.versions.vips}` });
  } catch (e) {
    out.push({ name: 'sharp', ok: false, required: true, detail: firstLine((e as Error).message), fix: 'run scripts/setup' });
  }

  const { listBuiltinManifests, loadManifest } = await import('../models/manifest.js');
  const { resolveModelFile } = await import('../models/model-file.js');
  for (const name of listBuiltinManifests()) {
    try {
      const { manifest, dir } = await loadManifest(name);
      const file = resolveModelFile(manifest, dir);
      out.push({ name: `model ${name}`, ok: fs.existsSync(file), required: name === 'blazeface-back', detail: file });
    } catch (e) {
      out.push({
        name: `model ${name}`,
        ok: false,
        required: name === 'blazeface-back',
        detail: (e as Error).message.split(';')[0] ?? '',
        fix: name === 'yolox-nano' ? 'pass --model-path yolox_nano.onnx' : 'run scripts/setup',
      });
    }
  }

  const { findDemoPhotos, demoDirs } = await import('../capture/demo.js');
  const photos = findDemoPhotos();
  out.push({
    name: 'demo photos',
    ok: photos.length > 0,
    required: !cams.ok,
    detail: photos[0] !== undefined ? `${photos.length} in ${path.dirname(photos[0])}` : `none in ${demoDirs().join(', ')}`,
    fix: 'run scripts/setup (installs python3-skimage)',
  });

  const tpmDev = ['/dev/tpmrm0', '/dev/tpm0'].filter((d) => fs.existsSync(d));
  try {
    const { Tpm } = await import('../attest/tpm.js');
    const tcti = opts.tcti ?? 'device:/dev/tpmrm0';
    try {
      const tpm = await Tpm.open(tcti);
      await tpm.getRandom(8);
      await tpm.close();
      out.push({ name: 'tpm', ok: true, required: false, detail: `${tcti} answers` });
    } catch (e) {
      out.push({
        name: 'tpm',
        ok: false,
        required: false,
        detail: `${tcti}: ${firstLine((e as Error).message)}`,
        fix: tpmDev.length ? 'check permissions on /dev/tpmrm0 (tss group)' : 'no TPM device: use --signer software, or --tcti for a simulator',
      });
    }
  } catch (e) {
    out.push({
      name: 'tpm',
      ok: false,
      required: false,
      detail: firstLine((e as Error).message),
      fix: 'apt-get install libtss2-dev && node scripts/build-native.mjs',
    });
  }

  out.push(stateCheck(opts.stateDir));
  out.push(keyCheck(opts));
  out.push({
    name: 'onnxruntime telemetry',
    ok: process.env.ORT_DISABLE_TELEMETRY === '1',
    required: false,
    detail: process.env.ORT_DISABLE_TELEMETRY === '1' ? 'off' : 'on (PERCEPT_ORT_TELEMETRY=1)',
  });
  return out;
}

function stateCheck(dir: string): Check {
  const abs = path.resolve(dir);
  try {
    ensurePrivateDir(abs);
    fs.accessSync(abs, fs.constants.W_OK);
  } catch (e) {
    return {
      name: 'state folder',
      ok: false,
      required: true,
      detail: `${abs}: ${(e as NodeJS.ErrnoException).code}`,
      fix: 'choose a writable --state-dir (or PERCEPT_STATE_DIR)',
    };
  }
  const mode = fs.statSync(abs).mode & 0o777;
  const holder = StateLock.holder(abs);
  const use = holder === null ? 'free' : `in use by process ${holder === -1 ? '(unknown)' : holder}`;
  const open = (mode & 0o077) !== 0;
  return {
    name: 'state folder',
    ok: !open,
    required: false,
    detail: `${abs} (mode ${mode.toString(8)}, ${use})`,
    fix: open ? `others can enter it: chmod 700 ${abs}` : undefined,
  };
}

function keyCheck(opts: { signer: string; keyFile: string; tcti?: string }): Check {
  if (opts.signer === 'none') return { name: 'signing key', ok: true, required: false, detail: 'none: telemetry checkpoints are not signed (--signer none)' };
  if (opts.signer === 'tpm')
    return {
      name: 'signing key',
      ok: true,
      required: false,
      detail: `in the TPM (${opts.tcti ?? 'device:/dev/tpmrm0'}); \`percept tpm enroll\` prints its keys-file entry`,
    };
  const file = path.resolve(opts.keyFile);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return {
      name: 'signing key',
      ok: true,
      required: false,
      detail: `${file} (software; not created yet: the first run or \`percept keys export\` creates it)`,
    };
  }
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    return {
      name: 'signing key',
      ok: false,
      required: true,
      detail: `${file} (software) is readable by other users (mode ${mode.toString(8)}): run refuses it`,
      fix: `chmod 600 ${file}, or delete it and enroll the new key`,
    };
  }
  let kid = '';
  try {
    kid = keyIdOf(createPublicKey(createPrivateKey(fs.readFileSync(file, 'utf8'))).export({ format: 'der', type: 'spki' }));
  } catch (e) {
    return {
      name: 'signing key',
      ok: false,
      required: true,
      detail: `${file}: not a PEM private key (${firstLine((e as Error).message)})`,
      fix: 'delete it: the next run creates a new key (enroll it again)',
    };
  }
  return { name: 'signing key', ok: true, required: false, detail: `${file} (software, kid ${kid}); \`percept keys export\` prints its keys-file entry` };
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}
