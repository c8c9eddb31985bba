// The one error shape of the project: every failure a user or a caller can act on is a
// PerceptError with a stable `code`. Retry and skip decisions read codes, never messages.

export type ErrorCode =
  | 'ERR_CONFIG'
  | 'ERR_MODEL_NOT_FOUND'
  | 'ERR_MODEL_INVALID'
  | 'ERR_MANIFEST_INVALID'
  | 'ERR_MANIFEST_MISMATCH'
  | 'ERR_SOURCE_UNREADABLE'
  | 'ERR_SOURCE_FAILED'
  | 'ERR_FRAME_CORRUPT'
  // A camera's failures (native/v4l2): see src/capture/v4l2-binding.ts for each one's cause.
  | 'ERR_CAMERA_GONE'
  | 'ERR_CAMERA_IO'
  | 'ERR_CAMERA_NOT_FOUND'
  | 'ERR_CAMERA_ACCESS'
  | 'ERR_CAMERA_BUSY'
  | 'ERR_CAMERA_UNSUPPORTED'
  | 'ERR_CAMERA_FORMAT'
  | 'ERR_CAMERA_CONTROL'
  | 'ERR_CAMERA_STATE'
  | 'ERR_CAMERA_CLOSED'
  | 'ERR_WORKER_CRASHED'
  | 'ERR_WORKER_START'
  | 'ERR_POOL_CLOSED'
  | 'ERR_QUEUE_FULL'
  | 'ERR_PROVIDER'
  | 'ERR_DECODE'
  | 'ERR_HUB'
  | 'ERR_HUB_OFFLINE'
  | 'ERR_HUB_TIMEOUT'
  | 'ERR_HUB_UNTRUSTED'
  | 'ERR_OUTBOX_FULL'
  | 'ERR_EMULATOR'
  | 'ERR_TPM'
  | 'ERR_INPUT'
  | 'ERR_PREVIEW'
  | 'ERR_USAGE'
  | 'ERR_STATE_LOCKED'
  | 'ERR_FILE_NOT_REGULAR'
  | 'ERR_FILE_TOO_LARGE'
  // Model packages (a zip from the twin) and their download.
  | 'ERR_PACKAGE_CORRUPT'
  | 'ERR_PACKAGE_PATH'
  | 'ERR_PACKAGE_ENTRY_TYPE'
  | 'ERR_PACKAGE_DUPLICATE'
  | 'ERR_PACKAGE_TOO_MANY_ENTRIES'
  | 'ERR_PACKAGE_TOO_LARGE'
  | 'ERR_PACKAGE_BOMB'
  | 'ERR_PACKAGE_LAYOUT'
  | 'ERR_PACKAGE_UNSUPPORTED'
  | 'ERR_PACKAGE_NOT_ONNX'
  | 'ERR_PACKAGE_HASH'
  | 'ERR_PACKAGE_SIGNATURE'
  | 'ERR_PACKAGE_ROLLED_BACK'
  | 'ERR_DOWNLOAD'
  | 'ERR_DOWNLOAD_INSECURE'
  | 'ERR_DOWNLOAD_HTTP'
  | 'ERR_DOWNLOAD_UNAVAILABLE'
  | 'ERR_DOWNLOAD_REDIRECTS'
  | 'ERR_DOWNLOAD_STALLED'
  | 'ERR_DOWNLOAD_TOO_LARGE'
  | 'ERR_DOWNLOAD_TLS';

const brand = Symbol.for('percept.error');

export class PerceptError extends Error {
  readonly code: ErrorCode;
  readonly [brand] = true;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'PerceptError';
  }

  static is(value: unknown, code?: ErrorCode): value is PerceptError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[brand] === true &&
      (code === undefined || (value as PerceptError).code === code)
    );
  }

  /** A plain object that survives structured clone (worker messages) and JSON. */
  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }

  static fromJSON(value: { code: ErrorCode; message: string }): PerceptError {
    return new PerceptError(value.code, value.message);
  }
}

/** Why a wait ends when `signal` aborts: its reason, as an Error (an abort names none: an AbortError). */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException(typeof reason === 'string' ? reason : 'This operation was aborted', 'AbortError');
}
