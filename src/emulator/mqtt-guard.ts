// Bounds on what a connection may send before and after it authenticates. aedes buffers a packet
// until its announced length has arrived and queues packets sent before CONNECT completes, with no
// cap; this reads MQTT's fixed headers as the bytes pass and closes a connection that oversteps.
import type { Duplex } from 'node:stream';

export const MQTT_BOUNDS = {
  /**
   * Largest packet: IoT Hub's 256 KB device-to-cloud message, plus the largest MQTT topic
   * (65,535 bytes, which carries the message's properties) and the packet's own header fields.
   */
  packetBytes: 256 * 1024 + 65_535 + 16,
  /** The first packet must be a CONNECT of at most this: a 257-character client id, a user name, a SAS token. */
  connectBytes: 16 * 1024,
  /** Bytes a connection may send before it has authenticated (its CONNECT and anything sent before CONNACK). */
  unauthenticatedBytes: 64 * 1024,
  /** Connections accepted but not yet authenticated, at once; more are closed at once. */
  unauthenticatedConnections: 64,
  /** Time for the TLS handshake, and again for the CONNECT. */
  connectTimeoutMs: 10_000,
} as const;

const CONNECT = 1;

/** Watches one connection's inbound bytes; `onViolation` is told why once, and the caller closes it. */
export class MqttGuard {
  #authenticated = false;
  #received = 0;
  #first = true;
  /** Where in a packet the next byte falls: its first byte, its remaining-length bytes, or its body. */
  #at: 'type' | 'length' | 'body' = 'type';
  #type = 0;
  #length = 0;
  #lengthBytes = 0;
  #bodyLeft = 0;
  #failed = false;
  readonly #onViolation: (reason: string) => void;

  constructor(stream: Duplex, onViolation: (reason: string) => void) {
    this.#onViolation = onViolation;
    // aedes reads with 'readable' + read(); a 'data' listener added beside it sees each chunk as
    // read() returns it, before aedes parses it, and leaves the flow control to aedes
    stream.on('data', (chunk: Buffer) => this.#feed(chunk));
  }

  get authenticated(): boolean {
    return this.#authenticated;
  }

  authenticate(): void {
    this.#authenticated = true;
  }

  #feed(chunk: Buffer): void {
    if (this.#failed) return;
    this.#received += chunk.length;
    if (!this.#authenticated && this.#received > MQTT_BOUNDS.unauthenticatedBytes) {
      return this.#fail(`over ${MQTT_BOUNDS.unauthenticatedBytes} bytes sent before authenticating`);
    }
    let i = 0;
    while (i < chunk.length) {
      if (this.#at === 'body') {
        const take = Math.min(this.#bodyLeft, chunk.length - i);
        this.#bodyLeft -= take;
        i += take;
        if (this.#bodyLeft === 0) this.#at = 'type';
        continue;
      }
      const byte = chunk.readUInt8(i++);
      if (this.#at === 'type') {
        this.#type = byte >> 4;
        if (this.#first && this.#type !== CONNECT) return this.#fail(`first packet is type ${this.#type}, not CONNECT`);
        this.#at = 'length';
        this.#length = 0;
        this.#lengthBytes = 0;
        continue;
      }
      this.#length += (byte & 0x7f) * 128 ** this.#lengthBytes++;
      if (byte & 0x80) {
        if (this.#lengthBytes === 4) return this.#fail('malformed remaining length');
        continue;
      }
      const max = this.#first ? MQTT_BOUNDS.connectBytes : MQTT_BOUNDS.packetBytes;
      if (this.#length > max) return this.#fail(`${this.#first ? 'CONNECT' : `packet type ${this.#type}`} announces ${this.#length} bytes, over ${max}`);
      this.#first = false;
      this.#bodyLeft = this.#length;
      this.#at = this.#length === 0 ? 'type' : 'body';
    }
  }

  #fail(reason: string): void {
    this.#failed = true;
    this.#onViolation(reason);
  }
}
