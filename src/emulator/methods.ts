// Direct method invocations in flight: each gets a request id, waits for the device's
// `$iothub/methods/res/{status}/?$rid=` and ends with the answer or a 504 at its timeout.
import { EmulatorError } from './errors.js';
import { jsonOrText } from './json.js';
import { LIMITS } from './types.js';

export interface MethodResult {
  status: number;
  payload: unknown;
}

interface Pending {
  key: string;
  resolve: (r: MethodResult) => void;
  reject: (e: EmulatorError) => void;
  timer: NodeJS.Timeout;
}

/** Validates a timeout in seconds, defaulting to IoT Hub's 30. */
export function methodTimeout(value: unknown): number {
  if (value === undefined || value === null) return 30;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < LIMITS.methodTimeoutMinSeconds || value > LIMITS.methodTimeoutMaxSeconds) {
    throw new EmulatorError(
      'BadRequest',
      `Expected a number between ${LIMITS.methodTimeoutMinSeconds} and ${LIMITS.methodTimeoutMaxSeconds} for timeoutSeconds but received ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export class MethodCalls {
  #pending = new Map<string, Pending>();
  #next = 1;

  get inFlight(): number {
    return this.#pending.size;
  }

  /** Registers a call; `send(rid)` publishes the request. */
  start(key: string, timeoutSeconds: number, name: string, send: (rid: string) => void): Promise<MethodResult> {
    const rid = (this.#next++).toString(16);
    return new Promise<MethodResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(rid);
        reject(new EmulatorError('GatewayTimeout', `Device ${key} did not answer method ${name} within ${timeoutSeconds} s`));
      }, timeoutSeconds * 1000);
      this.#pending.set(rid, { key, resolve, reject, timer });
      send(rid);
    });
  }

  /**
   * The device's answer. Unknown or late request ids are ignored, as IoT Hub does. A response
   * over 128 KB fails the call with DeviceResponseTooLarge and is reported to the caller
   * (the device has broken the protocol, so the broker also drops its connection).
   */
  answer(key: string, rid: string, status: number, payload: Buffer): void {
    const p = this.#pending.get(rid);
    if (!p || p.key !== key) return;
    this.#pending.delete(rid);
    clearTimeout(p.timer);
    if (payload.length > LIMITS.methodPayloadBytes) {
      const err = new EmulatorError(
        'DeviceResponseTooLarge',
        `Device ${key} answered with ${payload.length} bytes, over IoT Hub's ${LIMITS.methodPayloadBytes}`,
      );
      p.reject(err);
      throw err;
    }
    const text = payload.toString('utf8');
    p.resolve({ status, payload: text.trim() === '' ? null : jsonOrText(text) });
  }

  cancelAll(): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new EmulatorError('Closed', 'The emulator closed before the device answered'));
    }
    this.#pending.clear();
  }
}
