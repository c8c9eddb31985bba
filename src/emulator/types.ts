// Types shared by the emulator's parts: identities, received messages, the logger it accepts
// and the limits it enforces (IoT Hub's published quotas, in bytes).

/** A device (`moduleId` null) or a module identity. */
export interface Identity {
  deviceId: string;
  moduleId: string | null;
}

/** `deviceId` or `deviceId/moduleId`: the MQTT client id and the key of every per-identity map. */
export function identityKey(id: Identity): string {
  return id.moduleId === null ? id.deviceId : `${id.deviceId}/${id.moduleId}`;
}

/** One device-to-cloud message as the hub received it. */
export interface ReceivedMessage {
  /** Position in the emulator's message log, increasing from 1 (also across restarts). */
  seq: number;
  deviceId: string;
  moduleId: string | null;
  enqueuedTime: string;
  messageId: string | null;
  /** `$.`-prefixed properties decoded to names (messageId, contentType, contentEncoding, …). */
  systemProperties: Record<string, string>;
  /** Application properties. */
  properties: Record<string, string>;
  /** JSON when the bytes parse as JSON (nested at most 64 levels), else the UTF-8 text. */
  body: unknown;
  /** The exact bytes. */
  bodyBase64: string;
}

/** Structured logger, pino-compatible; the emulator is silent without one. */
export interface EmulatorLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: EmulatorLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** IoT Hub quotas the emulator enforces. */
export const LIMITS = {
  /** Device-to-cloud message: body plus system and application property names and values. */
  telemetryBytes: 256 * 1024,
  /** Each of the desired and reported sections of a twin, serialized. */
  twinSectionBytes: 32 * 1024,
  /** Direct method request and response payloads. */
  methodPayloadBytes: 128 * 1024,
  /** Cloud-to-device message body plus properties. */
  c2dBytes: 64 * 1024,
  /** Cloud-to-device messages waiting for one device. */
  c2dQueueDepth: 50,
  /** Nesting depth of twin property objects (IoT Hub: 10 levels below the section). */
  twinDepth: 10,
  /** Bounds of a method's response timeout in seconds (IoT Hub's minimum is 5; kept lower for tests). */
  methodTimeoutMinSeconds: 0.1,
  methodTimeoutMaxSeconds: 300,
} as const;
