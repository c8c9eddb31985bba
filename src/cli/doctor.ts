// `percept doctor`: checks what this machine offers the agent (ffmpeg, cameras, the ONNX
// Runtime and its providers, sharp, models, demo photos, the TPM, the state folder) and says
// what to do about anything missing.

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

interface Check {
  name: string;
  ok: boolean;
  /** Required for the agent's defaults; the rest is optional. */
  required: boolean;
  detail: string;
  fix?: string;
}

export const DOCTOR_HELP = `Usage: percept doctor [--json] [--tcti <string>] [--state-dir <dir>]

Checks this machine for what percept uses: Node.js, ffmpeg, cameras, onnxruntime-node and its
execution providers, sharp, the built-in models, the demo photos, the TPM and the state folder.
Exit code 0 when everything the defaults need is there, 1 otherwise.`;

async function checks(opts: { tcti?: string; stateDir: string }): Promise<Check[]> {
  const out: Check[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  out.push({ name: 'node', ok: major >= 20, required: true, detail: process.version, fix: 'install Node.js 20 or newer' });

  const ff = spawnSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' });
  out.push({ name: 'ffmpeg', ok: ff.status === 0, required: false, detail: ff.status === 0 ? ff.stdout.split('\n')[0] : 'not found', fix: 'apt-get install ffmpeg (needed for webcams, streams, video files)' });

  const cams = fs.existsSync('/dev') ? fs.readdirSync('/dev').filter((n) => /^video\d+$/.test(n)).map((n) => `/dev/${n}`) : [];
  out.push({ name: 'cameras', ok: cams.length > 0, required: false, detail: cams.length ? cams.join(', ') : 'none: the default source is the demo', fix: cams.length ? undefined : 'plug in a USB (UVC) camera, or use --source <file|folder|rtsp://...>' });

  try {
    const ort = await import('onnxruntime-node');
    const backends = ort.listSupportedBackends().map((b: { name: string; bundled: boolean }) => `${b.name}${b.bundled ? '' : ' (not bundled)'}`);
    out.push({ name: 'onnxruntime-node', ok: true, required: true, detail: `backends: ${backends.join(', ')}` });
  } catch (e) {
    out.push({ name: 'onnxruntime-node', ok: false, required: true, detail: (e as Error).message.split('\n')[0], fix: 'run scripts/setup (npm ci with ONNXRUNTIME_NODE_INSTALL=skip)' });
  }

  try {
    const sharp = (await import('sharp')).default;
    out.push({ name: 'sharp', ok: true, required: true, detail: `libvips ${sharp.versions.vips}` });
  } catch (e) {
    out.push({ name: 'sharp', ok: false, required: true, detail: (e as Error).message.split('\n')[0], fix: 'run scripts/setup' });
  }

  const { listBuiltinManifests, loadManifest } = await import('../models/manifest.js');
  const { resolveModelFile } = await import('../models/model-file.js');
  for (const name of listBuiltinManifests()) {
    try {
      const { manifest, dir } = await loadManifest(name);
      const file = resolveModelFile(manifest, dir);
      out.push({ name: `model ${name}`, ok: fs.existsSync(file), required: name === 'blazeface-back', detail: file });
    } catch (e) {
      out.push({ name: `model ${name}`, ok: false, required: name === 'blazeface-back', detail: (e as Error).message.split(';')[0], fix: name === 'yolox-nano' ? 'pass --model-path yolox_nano.onnx' : 'run scripts/setup' });
    }
  }

  const { findDemoPhotos, demoDirs } = await import('../capture/demo.js');
  const photos = findDemoPhotos();
  out.push({ name: 'demo photos', ok: photos.length > 0, required: cams.length === 0, detail: photos.length ? `${photos.length} in ${path.dirname(photos[0])}` : `none in ${demoDirs().join(', ')}`, fix: 'run scripts/setup (installs python3-skimage)' });

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
      out.push({ name: 'tpm', ok: false, required: false, detail: `${tcti}: ${(e as Error).message.split('\n')[0]}`, fix: tpmDev.length ? 'check permissions on /dev/tpmrm0 (tss group)' : 'no TPM device: use --signer software, or --tcti for a simulator' });
    }
  } catch (e) {
    out.push({ name: 'tpm', ok: false, required: false, detail: (e as Error).message.split('\n')[0], fix: 'apt-get install libtss2-dev && node scripts/build-native.mjs' });
  }

  try {
    fs.mkdirSync(opts.stateDir, { recursive: true });
    fs.accessSync(opts.stateDir, fs.constants.W_OK);
    out.push({ name: 'state folder', ok: true, required: true, detail: path.resolve(opts.stateDir) });
  } catch (e) {
    out.push({ name: 'state folder', ok: false, required: true, detail: `${opts.stateDir}: ${(e as NodeJS.ErrnoException).code}`, fix: 'choose a writable --state-dir' });
  }
  out.push({ name: 'onnxruntime telemetry', ok: process.env.ORT_DISABLE_TELEMETRY === '1', required: false, detail: process.env.ORT_DISABLE_TELEMETRY === '1' ? 'off' : 'on (PERCEPT_ORT_TELEMETRY=1)' });
  return out;
}

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, tcti: { type: 'string' }, 'state-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(DOCTOR_HELP + '\n');
    return 0;
  }
  const list = await checks({ tcti: values.tcti, stateDir: values['state-dir'] ?? process.env.PERCEPT_STATE_DIR ?? '.percept/state' });
  const ok = list.every((c) => c.ok || !c.required);
  if (values.json) {
    process.stdout.write(JSON.stringify({ ok, checks: list }) + '\n');
  } else {
    for (const c of list) {
      const mark = c.ok ? 'ok  ' : c.required ? 'FAIL' : 'warn';
      process.stdout.write(`${mark}  ${c.name.padEnd(22)} ${c.detail}${!c.ok && c.fix ? `\n      -> ${c.fix}` : ''}\n`);
    }
    process.stdout.write(ok ? 'percept can run here.\n' : 'percept cannot run its defaults here: see FAIL lines.\n');
  }
  return ok ? 0 : 1;
}
