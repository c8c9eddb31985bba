// The emulator's one error shape. It imports nothing of the agent, so it keeps its own small
// class: a stable `code` for callers and an HTTP status for the service API.

export type EmulatorErrorCode =
  | 'BadRequest'
  | 'DeviceNotFound'
  | 'ModuleNotFound'
  | 'DeviceAlreadyExists'
  | 'DeviceNotOnline'
  | 'GatewayTimeout'
  | 'MessageTooLarge'
  | 'DeviceResponseTooLarge'
  | 'QueueDepthExceeded'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'ForbiddenOrigin'
  | 'MisdirectedRequest'
  | 'UnsupportedMediaType'
  | 'Closed'
  | 'PortInUse'
  | 'PortNotAllowed'
  | 'StateInvalid';

const STATUS: Record<EmulatorErrorCode, number> = {
  BadRequest: 400,
  DeviceNotFound: 404,
  ModuleNotFound: 404,
  DeviceAlreadyExists: 409,
  DeviceNotOnline: 404,
  GatewayTimeout: 504,
  MessageTooLarge: 413,
  DeviceResponseTooLarge: 502,
  QueueDepthExceeded: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  ForbiddenOrigin: 403,
  MisdirectedRequest: 421,
  UnsupportedMediaType: 415,
  Closed: 503,
  PortInUse: 500,
  PortNotAllowed: 500,
  StateInvalid: 500,
};

const brand = Symbol.for('percept.emulator.error');

export class EmulatorError extends Error {
  readonly code: EmulatorErrorCode;
  readonly status: number;
  readonly [brand] = true;

  constructor(code: EmulatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = STATUS[code];
    this.name = 'EmulatorError';
  }

  static is(value: unknown, code?: EmulatorErrorCode): value is EmulatorError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[brand] === true &&
      (code === undefined || (value as EmulatorError).code === code)
    );
  }

  toJSON(): { error: { code: EmulatorErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}
