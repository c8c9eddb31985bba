// The contract of the native addon native/v4l2 (v4l2.node), declared once, and the one loader
// that turns a load failure into one error listing concrete fixes. A camera FrameSource wraps
// NativeCamera; `percept cameras` uses listDevices() and describe().
//
// Synchronous or not, per member: listDevices(), describe() and NativeCamera.open() are
// asynchronous (their ioctls run on a libuv worker thread: on UVC each is a USB round trip).
// Everything else is synchronous. Malformed arguments throw a TypeError synchronously. System
// failures are NativeCameraError (an Error with a stable `code`), thrown by the synchronous
// methods, rejected by open(), and passed to the camera's onError callback while streaming.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PerceptError } from '../errors.js';

/** Pixel formats the addon streams. MJPEG frames are whole JPEG files; the others are raw. */
export type NativePixelFormat = 'mjpeg' | 'yuyv' | 'nv12';

export type NativeCameraErrorCode =
  /** ENODEV/ENXIO/ESHUTDOWN or POLLERR: unplugged or reset. Back off and reopen. */
  | 'ERR_CAMERA_GONE'
  /** EIO and other I/O failures of a present device (a USB error, a failed DQBUF). */
  | 'ERR_CAMERA_IO'
  /** ENOENT: no such /dev/videoN. */
  | 'ERR_CAMERA_NOT_FOUND'
  /** EACCES/EPERM: the user may not open the device (video group, container devices). */
  | 'ERR_CAMERA_ACCESS'
  /** EBUSY: another process streams from it. */
  | 'ERR_CAMERA_BUSY'
  /** The node is no streaming capture device (a UVC camera's metadata node). */
  | 'ERR_CAMERA_UNSUPPORTED'
  /** The camera does not offer the requested pixel format. */
  | 'ERR_CAMERA_FORMAT'
  /** The driver refused a control get/set (EINVAL unknown id, ERANGE, EACCES inactive). */
  | 'ERR_CAMERA_CONTROL'
  /** open() twice, or a control call on a camera that is not streaming. */
  | 'ERR_CAMERA_STATE'
  /** open() on a closed camera, or close() while it was opening. */
  | 'ERR_CAMERA_CLOSED';

/** What every native failure carries besides its message (which says what to do next). */
export interface NativeCameraError extends Error {
  code: NativeCameraErrorCode;
  /** "open", "mmap", "poll" or the ioctl ("VIDIOC_DQBUF"). */
  syscall: string;
  /** The errno, 0 when the failure is the addon's own check. */
  errno: number;
  /** "ENODEV", or null when errno is 0. */
  errnoName: string | null;
  path: string;
}

export interface NativeDeviceInfo {
  /** "/dev/video0". */
  path: string;
  /** N of /dev/videoN; -1 for a describe() of another path. */
  index: number;
  /** Set when the node exists but could not be opened or queried (ERR_CAMERA_ACCESS...). */
  error: NativeCameraError | null;
  driver: string;
  card: string;
  busInfo: string;
  /** The driver's version, "6.1.0". */
  version: string;
  /** V4L2_CAP_* bits of this node (device_caps). */
  capabilities: number;
  /** A streaming video capture node: the one to open (UVC cameras also have a metadata node). */
  capture: boolean;
}

/** A frame interval in seconds, numerator/denominator (1/30 is 30 fps). */
export interface NativeFraction {
  numerator: number;
  denominator: number;
}

export interface NativeFrameSize {
  width: number;
  height: number;
  intervals: NativeFraction[];
  /** intervals is [shortest, longest] of a continuous range rather than a list. */
  stepwise: boolean;
}

export interface NativeFormatInfo {
  /** The four characters: "MJPG", "YUYV", "NV12", ... (any the driver offers). */
  fourcc: string;
  description: string;
  compressed: boolean;
  /** Converted in software by libv4l, not offered by the hardware. */
  emulated: boolean;
  /** sizes is [smallest, largest] of a stepwise or continuous range rather than a list. */
  stepwise: boolean;
  sizes: NativeFrameSize[];
}

export interface NativeMenuItem {
  index: number;
  /** Menu controls. */
  name?: string;
  /** Integer-menu controls. */
  value?: number;
}

export interface NativeControlInfo {
  /** V4L2_CID_* */
  id: number;
  /** v4l2-ctl's name for it: "brightness", "power_line_frequency", "exposure_auto". */
  key: string;
  name: string;
  type: 'integer' | 'boolean' | 'menu' | 'integer_menu' | 'button' | 'integer64' | 'string' | 'bitmask' | 'other';
  minimum: number;
  maximum: number;
  step: number;
  default: number;
  /** The current value, null when it cannot be read (write-only, buttons). */
  value: number | null;
  readOnly: boolean;
  /** Currently without effect (e.g. exposure_absolute while exposure is automatic). */
  inactive: boolean;
  /** The entries of a menu, which may have holes; null for other types. */
  menu: NativeMenuItem[] | null;
}

export interface NativeDeviceDescription extends NativeDeviceInfo {
  /** Empty when `error` is set. */
  formats: NativeFormatInfo[];
  /** Enabled controls in id order, without control classes. */
  controls: NativeControlInfo[];
}

export interface NativeOpenOptions {
  format: NativePixelFormat;
  width: number;
  height: number;
  /** Requested rate (S_PARM); the driver picks the nearest it offers. Omitted: its current rate. */
  fps?: number;
  /** Size of the mmap ring, default 4. */
  buffers?: number;
  /** Insert the standard Huffman tables into MJPEG frames without them (default true). */
  fixHuffman?: boolean;
}

/** What the driver granted; width/height may differ from the request (drivers adjust). */
export interface NativeStreamInfo {
  format: NativePixelFormat;
  fourcc: string;
  width: number;
  height: number;
  /** Bytes per row of raw frames (>= width * bytes per pixel); 0 for MJPEG. */
  stride: number;
  sizeImage: number;
  fps: number;
  buffers: number;
}

export interface NativeFrame {
  /** A copy, owned by JavaScript: MJPEG as a JPEG file; YUYV rows of `stride` bytes; NV12 the
   * Y plane (height rows of `stride`) then the interleaved UV plane (ceil(height/2) rows). A
   * view from offset 0 of an ArrayBuffer that may be longer: memory handed back with
   * recycle(), or new memory with room to be recycled. */
  data: Uint8Array;
  format: NativePixelFormat;
  width: number;
  height: number;
  stride: number;
  /** The driver's frame counter; gaps are frames the driver dropped. */
  sequence: number;
  /** Capture time from the driver, microseconds of CLOCK_MONOTONIC. */
  timestamp: number;
  /** The standard Huffman tables were inserted into this MJPEG frame. */
  huffmanInserted: boolean;
  /** Frames replaced in the pending slot so far (the same as stats().dropped). */
  dropped: number;
}

export interface NativeCameraStats {
  /** Frames dequeued without the driver's error flag. */
  captured: number;
  /** Frames handed to onFrame. */
  delivered: number;
  /** Frames replaced by a newer one while JavaScript held the previous (newest wins). */
  dropped: number;
  /** Buffers the driver flagged V4L2_BUF_FLAG_ERROR (requeued, not delivered). */
  corrupt: number;
  /** Gaps in the driver's sequence numbers. */
  driverDropped: number;
  /** Frames written into memory handed back with recycle() rather than new memory. */
  reused: number;
  state: 'idle' | 'opening' | 'streaming' | 'closed';
}

/**
 * One camera. `new Camera(path, onFrame, onError)` does no I/O. onFrame(frame) runs on the
 * thread that created the camera, for one frame at a time: until done() is called, newer
 * frames wait in a one-frame slot where the newest replaces the older (counted in `dropped`).
 * onError(err) runs at most once, after every resource was released; the camera is then
 * closed. An exception thrown by either callback becomes an 'uncaughtException'.
 * A streaming camera keeps the process alive and is not garbage collected (like a socket)
 * until close() or an error; when its Node environment ends (process exit, worker terminated)
 * it is released.
 */
export interface NativeCamera {
  /** open, QUERYCAP, S_FMT, S_PARM, REQBUFS, mmap, QBUF, STREAMON, then frames flow. Rejects
   * with a NativeCameraError (ERR_CAMERA_NOT_FOUND, _ACCESS, _BUSY, _FORMAT, _UNSUPPORTED,
   * _GONE, _IO; _STATE when called twice; _CLOSED after close() or when close() interrupts it);
   * on rejection nothing stays open. */
  open(options: NativeOpenOptions): Promise<NativeStreamInfo>;
  /** JavaScript is done with the frame it was given: the pending one (if any) follows. */
  done(): void;
  /** Hands a frame's memory (data.buffer) back: a later frame that fits is written into it, and
   * nothing may read it after this. Up to 16 are kept; past that, or once closed, it is left to
   * the garbage collector. A TypeError for anything but an ArrayBuffer. */
  recycle(memory: ArrayBuffer): void;
  /** STREAMOFF, munmap, close, synchronously. Idempotent; during open() it makes open() reject
   * once the worker returns, releasing what it acquired. Never throws. */
  close(): void;
  /** VIDIOC_G_CTRL. Throws ERR_CAMERA_CONTROL, ERR_CAMERA_GONE, or ERR_CAMERA_STATE when not streaming. */
  getControl(id: number): number;
  /** VIDIOC_S_CTRL. Throws like getControl; a TypeError for a value that is not a 32-bit integer. */
  setControl(id: number, value: number): void;
  stats(): NativeCameraStats;
}

export interface NativeV4l2Binding {
  Camera: new (path: string, onFrame: (frame: NativeFrame) => void, onError: (err: NativeCameraError) => void) => NativeCamera;
  /** /dev/video0../dev/video63 that exist, found with access(2) and QUERYCAP (never Node's fs,
   * so an LD_PRELOAD fake device is seen). Never rejects: a node that cannot be opened is
   * listed with `error`. */
  listDevices(): Promise<NativeDeviceInfo[]>;
  /** Formats, sizes, intervals and controls of one node. Never rejects for a device failure:
   * it resolves with `error` set (ERR_CAMERA_NOT_FOUND for a missing path) and empty lists. */
  describe(path: string): Promise<NativeDeviceDescription>;
}

export function isNativeCameraError(e: unknown): e is NativeCameraError {
  return e instanceof Error && typeof (e as Partial<NativeCameraError>).code === 'string' && typeof (e as Partial<NativeCameraError>).syscall === 'string';
}

// dist/src/capture -> project root. PERCEPT_V4L2_ADDON overrides it for packaged installs.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const V4L2_ADDON_PATH = process.env.PERCEPT_V4L2_ADDON ?? path.join(ROOT, 'native', 'v4l2', 'build', 'Release', 'v4l2.node');

/** Why the addon cannot be used; a camera source falls back to ffmpeg and reports it. */
export class V4l2UnavailableError extends PerceptError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SOURCE_UNREADABLE', message, options);
    this.name = 'V4l2UnavailableError';
  }
}

let loaded: NativeV4l2Binding | V4l2UnavailableError | undefined;

/** Loads the addon once per thread; throws a V4l2UnavailableError listing the fixes. */
export function loadV4l2Binding(): NativeV4l2Binding {
  if (loaded === undefined) {
    try {
      if (process.platform !== 'linux') throw new Error(`V4L2 exists only on Linux (this is ${process.platform})`);
      loaded = createRequire(import.meta.url)(V4L2_ADDON_PATH) as NativeV4l2Binding;
    } catch (cause) {
      loaded = unavailable(cause);
    }
  }
  if (loaded instanceof V4l2UnavailableError) throw loaded;
  return loaded;
}

function unavailable(cause: unknown): V4l2UnavailableError {
  const why = cause instanceof Error ? (cause.message.split('\n')[0] ?? '') : String(cause);
  const fixes =
    process.platform !== 'linux'
      ? ['  1. read cameras through ffmpeg: set backend: "ffmpeg" on the source']
      : [
          /NODE_MODULE_VERSION|different Node\.js version/.test(why)
            ? '  1. the addon was built for another Node.js: rebuild it with node scripts/build-native.mjs --clean'
            : /ELF|file too short|cannot open shared object/.test(why)
              ? `  1. the addon was built for another architecture than ${process.arch}: rebuild it on this machine (node scripts/build-native.mjs --clean) or cross-compile with node-gyp --arch=${process.arch}`
              : '  1. build it: apt-get install build-essential linux-libc-dev (Debian/Ubuntu), then node scripts/build-native.mjs',
          '  2. or point PERCEPT_V4L2_ADDON at a built v4l2.node',
          '  3. or read this camera through ffmpeg: set backend: "ffmpeg" on the source',
        ];
  return new V4l2UnavailableError([`The camera addon could not be loaded from ${V4L2_ADDON_PATH}: ${why}`, 'To capture natively:', ...fixes].join('\n'), {
    cause,
  });
}
