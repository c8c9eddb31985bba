// Which cameras this machine has, and what each offers, asked through the native V4L2 addon
// (never Node's fs, so a fake device preloaded in tests is seen like a real one); and the
// capture mode a camera source asks for. Used by `percept cameras`, `percept doctor`, the
// default source and the camera sources.

import fs from 'node:fs';
import type { SourceConfig } from '../config/schema.js';
import {
  loadV4l2Binding,
  V4l2UnavailableError,
  type NativeDeviceDescription,
  type NativeFormatInfo,
  type NativePixelFormat,
  type NativeV4l2Binding,
} from './v4l2-binding.js';

/** The addon, or why it cannot be used (its error lists the fixes). */
export function tryV4l2Binding(): { binding: NativeV4l2Binding; error: null } | { binding: null; error: V4l2UnavailableError } {
  try {
    return { binding: loadV4l2Binding(), error: null };
  } catch (e) {
    return { binding: null, error: e as V4l2UnavailableError };
  }
}

/** Every /dev/videoN with its formats, sizes, rates and controls; nodes that fail carry `error`. */
export async function describeCameras(binding: NativeV4l2Binding = loadV4l2Binding()): Promise<NativeDeviceDescription[]> {
  const nodes = await binding.listDevices();
  return Promise.all(nodes.map((n) => (n.error ? Promise.resolve({ ...n, formats: [], controls: [] }) : binding.describe(n.path))));
}

/**
 * The streaming capture nodes (a UVC camera's metadata node left out), in /dev/videoN order.
 * Without the addon, the /dev/videoN that exist as far as the file system says (what ffmpeg
 * would open), and `via` says so.
 */
export async function captureNodes(): Promise<{ paths: string[]; via: 'native' | 'fs' }> {
  const { binding } = tryV4l2Binding();
  if (!binding) {
    const paths: string[] = [];
    for (let i = 0; i < 64; i++) if (fs.existsSync(`/dev/video${i}`)) paths.push(`/dev/video${i}`);
    return { paths, via: 'fs' };
  }
  const nodes = await binding.listDevices();
  return { paths: nodes.filter((n) => n.capture && !n.error).map((n) => n.path), via: 'native' };
}

/** Whether a camera node exists: the addon's answer when it loads, else the file system's. */
export async function cameraExists(path: string): Promise<boolean> {
  const { binding } = tryV4l2Binding();
  if (!binding) return fs.existsSync(path);
  const d = await binding.describe(path);
  return d.error?.code !== 'ERR_CAMERA_NOT_FOUND';
}

export const FOURCC: Record<NativePixelFormat, string> = { mjpeg: 'MJPG', yuyv: 'YUYV', nv12: 'NV12' };
/** MJPEG first (least to copy, and the camera compressed it), then YUYV, then NV12. */
const PREFERENCE: NativePixelFormat[] = ['mjpeg', 'yuyv', 'nv12'];
/** The size a camera is asked for when the source names none: enough for any detector input. */
const DEFAULT_SIZE = { width: 1280, height: 720 };

export interface CaptureMode {
  format: NativePixelFormat;
  width: number;
  height: number;
  fps?: number;
}

function formatOf(desc: NativeDeviceDescription, f: NativePixelFormat): NativeFormatInfo | undefined {
  // Some drivers call MJPEG "JPEG"; the addon accepts either for an MJPEG request.
  return desc.formats.find((x) => x.fourcc === FOURCC[f] || (f === 'mjpeg' && x.fourcc === 'JPEG'));
}

function offersSize(fmt: NativeFormatInfo, w: number, h: number): boolean {
  const [lo, hi] = fmt.sizes;
  if (fmt.stepwise && fmt.sizes.length === 2 && lo !== undefined && hi !== undefined) {
    return w >= lo.width && w <= hi.width && h >= lo.height && h <= hi.height;
  }
  return fmt.sizes.some((s) => s.width === w && s.height === h);
}

function offersRate(fmt: NativeFormatInfo, w: number, h: number, fps: number): boolean {
  const size = fmt.sizes.find((s) => s.width === w && s.height === h) ?? (fmt.stepwise ? fmt.sizes[fmt.sizes.length - 1] : undefined);
  if (!size || size.intervals.length === 0) return true;
  const rates = size.intervals.map((i) => i.denominator / i.numerator);
  if (size.stepwise) return fps >= Math.min(...rates) - 0.01 && fps <= Math.max(...rates) + 0.01;
  return rates.some((r) => Math.abs(r - fps) < 0.01);
}

/** A size of this format: the default when offered, else the largest not above it, else the smallest. */
function pickSize(fmt: NativeFormatInfo): { width: number; height: number } {
  if (offersSize(fmt, DEFAULT_SIZE.width, DEFAULT_SIZE.height)) return DEFAULT_SIZE;
  const area = (s: { width: number; height: number }) => s.width * s.height;
  const sizes = [...fmt.sizes].sort((a, b) => area(a) - area(b));
  const fit = sizes.filter((s) => area(s) <= area(DEFAULT_SIZE));
  // A format without sizes asks for the default and lets the driver adjust.
  return fit[fit.length - 1] ?? sizes[0] ?? DEFAULT_SIZE;
}

/**
 * The mode to ask for: MJPEG at the requested size and rate, else YUYV, else NV12 at it; when
 * no format offers the request, the preferred format nearest to it (the driver adjusts). Null
 * when the camera offers none of the three.
 */
export function chooseMode(desc: NativeDeviceDescription, cfg: Pick<SourceConfig, 'width' | 'height' | 'fps'>): CaptureMode | null {
  const offered = PREFERENCE.map((f) => [f, formatOf(desc, f)] as const).filter(
    (x): x is readonly [NativePixelFormat, NativeFormatInfo] => x[1] !== undefined && x[1].sizes.length > 0,
  );
  const [first] = offered;
  if (first === undefined) return null;
  const w = cfg.width;
  const h = cfg.height;
  if (w && h) {
    const exact =
      offered.find(([, fmt]) => offersSize(fmt, w, h) && (!cfg.fps || offersRate(fmt, w, h, cfg.fps))) ?? offered.find(([, fmt]) => offersSize(fmt, w, h));
    const [format] = exact ?? first;
    return { format, width: w, height: h, fps: cfg.fps };
  }
  const rated = cfg.fps
    ? offered.find(([, fmt]) => {
        const s = pickSize(fmt);
        return offersRate(fmt, s.width, s.height, cfg.fps!);
      })
    : undefined;
  const [format, fmt] = rated ?? first;
  return { format, ...pickSize(fmt), fps: cfg.fps };
}

/** The formats a camera offers, for messages: "MJPG, H264". */
export function offeredFormats(desc: NativeDeviceDescription): string {
  return desc.formats.map((f) => f.fourcc).join(', ') || 'none';
}

/** `percept doctor`'s camera line: the capture nodes and what they stream, and how they are read. */
export async function cameraCheck(): Promise<{ ok: boolean; detail: string; fix?: string }> {
  const { binding, error } = tryV4l2Binding();
  if (!binding) {
    const { paths } = await captureNodes();
    const why = `native capture unavailable (${error.message.split('\n')[0]}); cameras are read through ffmpeg`;
    return {
      ok: paths.length > 0,
      detail: `${paths.length ? paths.join(', ') : 'none'}; ${why}`,
      fix: error.message.split('\n').slice(2).join(' ').replace(/\s+/g, ' ').trim(),
    };
  }
  const all = await describeCameras(binding);
  const nodes = all.filter((d) => d.capture && !d.error);
  if (nodes.length === 0) {
    const refused = all.filter((d) => d.error).map((d) => `${d.path}: ${d.error!.code}`);
    return {
      ok: false,
      detail: `none${refused.length ? ` usable (${refused.join(', ')})` : ''}: the default source is the demo`,
      fix: refused.length
        ? 'check the video group and that no other program streams from the camera'
        : 'plug in a USB (UVC) camera, or use --source <file|folder|rtsp://...>',
    };
  }
  return { ok: true, detail: nodes.map((d) => `${d.path} (${d.card}: ${offeredFormats(d)})`).join(', ') };
}
