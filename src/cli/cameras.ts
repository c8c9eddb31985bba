// `percept cameras [--json]`: the V4L2 cameras of this machine with their formats, sizes,
// rates and controls, as the native addon reports them (src/capture/cameras.ts asks).

import { parseArgs } from 'node:util';
import { describeCameras } from '../capture/cameras.js';
import type { NativeDeviceDescription, NativeFrameSize } from '../capture/v4l2-binding.js';
import { printHelp } from './args.js';

export const CAMERAS_HELP = `Usage: percept cameras [--json]

Lists the V4L2 cameras (/dev/videoN): driver, formats, frame sizes and rates, and controls
with their ranges and current values. Control keys are the ones a source's "controls" takes.
  --json   one JSON document: {"cameras": [...]}`;

export async function camerasCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return printHelp(CAMERAS_HELP);
  const cams = await describeCameras();
  if (values.json) {
    const plain = cams.map((c) => ({ ...c, error: c.error ? { code: c.error.code, message: c.error.message } : null }));
    process.stdout.write(JSON.stringify({ cameras: plain }) + '\n');
    return 0;
  }
  if (cams.length === 0) {
    process.stdout.write('no cameras (/dev/video*) found; plug in a USB (UVC) camera\n');
    return 0;
  }
  for (const c of cams) process.stdout.write(describe(c));
  return 0;
}

function rates(s: NativeFrameSize): string {
  const fps = s.intervals.map((i) => +(i.denominator / i.numerator).toFixed(2));
  if (fps.length === 0) return '';
  return s.stepwise ? ` @ ${Math.min(...fps)}-${Math.max(...fps)} fps` : ` @ ${fps.join(', ')} fps`;
}

function describe(c: NativeDeviceDescription): string {
  const lines = [`${c.path}  ${c.card || '?'} (${c.driver || '?'}, ${c.busInfo || '?'})${c.capture ? '' : '  [not a capture node]'}`];
  if (c.error) lines.push(`  error: [${c.error.code}] ${c.error.message}`);
  for (const f of c.formats) {
    lines.push(`  ${f.fourcc}  ${f.description}${f.emulated ? ' (emulated)' : ''}`);
    const [lo, hi] = f.sizes;
    const sizes =
      f.stepwise && lo && hi && f.sizes.length === 2
        ? [`${lo.width}x${lo.height} to ${hi.width}x${hi.height}${rates(hi)}`]
        : f.sizes.map((s) => `${s.width}x${s.height}${rates(s)}`);
    for (const s of sizes) lines.push(`    ${s}`);
  }
  if (c.controls.length) lines.push('  controls:');
  for (const k of c.controls) {
    const menu = k.menu ? ` {${k.menu.map((m) => `${m.index}: ${m.name ?? m.value}`).join(', ')}}` : '';
    const flags = [k.readOnly && 'read-only', k.inactive && 'inactive'].filter(Boolean).join(', ');
    lines.push(
      `    ${k.key.padEnd(28)} ${k.type} ${k.minimum}..${k.maximum} step ${k.step} default ${k.default} = ${k.value ?? '?'}${menu}${flags ? ` (${flags})` : ''}`,
    );
  }
  return lines.join('\n') + '\n';
}
