// The MQTT front end: aedes over node:tls on loopback (and over WebSockets, whose streams are
// handed in). It authenticates CONNECTs by SAS token or client certificate, closes connections
// whose token expires, confines each identity to IoT Hub's topics, and delivers the hub's messages.
// Each connection's inbound bytes are bounded by a guard (mqtt-guard.ts).
import type crypto from 'node:crypto';
import type http from 'node:http';
import type net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import { authenticate } from './auth.js';
import { EmulatorError } from './errors.js';
import { MQTT_BOUNDS, MqttGuard } from './mqtt-guard.js';
import type { Credential } from './registry.js';
import { allowedFilters, parseInbound, type Inbound } from './topics.js';
import type { EmulatorLogger, Identity } from './types.js';
import { peerChain } from './x509.js';

export interface Session {
  id: Identity;
  key: string;
  client: Client;
  auth: 'sas' | 'x509';
  transport: 'mqtts' | 'wss';
  /** Token expiry, ms since the epoch; Infinity for a certificate. */
  expiresAt: number;
}

/** Faults the service API can inject. */
export interface Faults {
  /** Refuse every CONNECT with CONNACK 5. */
  refuseAuth: boolean;
  /** Keep QoS 1 telemetry without sending PUBACK until cleared. */
  stopAcks: boolean;
  /** Delay CONNACK, PUBACK and every hub reply by this many ms. */
  delayMs: number;
}

export interface BrokerHandler {
  /** How a registered identity authenticates, or null. */
  credentialOf(id: Identity): Credential | null;
  /** Registered CA certificates, for CA-signed X.509 devices. */
  certificateAuthorities(): crypto.X509Certificate[];
  /** Handles a device's publish; throwing an EmulatorError drops the connection (IoT Hub's answer to a bad PUBLISH). */
  onPublish(session: Session, inbound: Inbound, payload: Buffer): void;
  onSubscribed(session: Session, filters: string[]): void;
}

export interface BrokerOptions {
  port: number;
  tls: { keyPem: string; certPem: string };
  /** Host names a token's `sr` and the username may carry (with and without port). */
  hostNames: string[];
  handler: BrokerHandler;
  logger: EmulatorLogger;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

function authError(returnCode: 3 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode });
}

export class Broker {
  readonly faults: Faults = { refuseAuth: false, stopAcks: false, delayMs: 0 };
  #aedes: Aedes;
  #server: tls.Server;
  #opts: BrokerOptions;
  #pending = new WeakMap<Client, Session>();
  #active = new Map<string, Session>();
  #timers = new Map<Client, NodeJS.Timeout>();
  #heldAcks: Array<{ client: Client; ack: () => void }> = [];
  #sockets = new Set<net.Socket>();
  /** The TLS socket under each client (the connection itself, or the one carrying its WebSocket). */
  #tlsOf = new WeakMap<Client, { socket: tls.TLSSocket; transport: 'mqtts' | 'wss' }>();
  #guards = new WeakMap<Client, MqttGuard>();
  /** Connections accepted that have not authenticated yet. */
  #unauthenticated = 0;

  private constructor(aedes: Aedes, server: tls.Server, opts: BrokerOptions) {
    this.#aedes = aedes;
    this.#server = server;
    this.#opts = opts;
  }

  static async start(opts: BrokerOptions): Promise<Broker> {
    const ref: { self?: Broker } = {};
    const aedes = await Aedes.createBroker({
      // IoT Hub client ids are `deviceId/moduleId`, up to 257 characters
      maxClientsIdLength: 257,
      connectTimeout: MQTT_BOUNDS.connectTimeoutMs,
      authenticate: (client, username, password, done) => ref.self!.#authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => ref.self!.#authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => ref.self!.#authorizeSubscribe(client, sub, done),
    });
    // IoT Hub asks every client for a certificate and decides at CONNECT, so none is refused here
    const server = tls.createServer({
      key: opts.tls.keyPem,
      cert: opts.tls.certPem,
      minVersion: 'TLSv1.2',
      requestCert: true,
      rejectUnauthorized: false,
      handshakeTimeout: MQTT_BOUNDS.connectTimeoutMs,
    });
    const self = new Broker(aedes, server, opts);
    ref.self = self;
    self.#wire();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      // aedes' heartbeat timer would keep a process that cannot serve alive (a port in use).
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw err;
    }
    return self;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** The live connection of an identity, if any. */
  session(key: string): Session | undefined {
    return this.#active.get(key);
  }

  connectedKeys(): string[] {
    return [...this.#active.keys()];
  }

  /** Topic filters the identity's live connection is subscribed to. */
  subscriptions(key: string): string[] {
    const s = this.#active.get(key);
    return s === undefined ? [] : Object.keys((s.client as Client & { subscriptions: Record<string, unknown> }).subscriptions);
  }

  isSubscribed(key: string, filter: string): boolean {
    return this.subscriptions(key).includes(filter);
  }

  /** Publishes to one identity's connection only; false when it is not connected. */
  send(key: string, topic: string, payload: Buffer | string, qos: 0 | 1): boolean {
    const s = this.#active.get(key);
    if (!s) return false;
    const packet: PublishPacket = {
      cmd: 'publish',
      topic,
      payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
      qos,
      retain: false,
      dup: false,
    };
    const deliver = () =>
      s.client.publish(packet, (err) => {
        if (err) this.#opts.logger.warn({ key, topic, err: err.message }, 'delivery to device failed');
      });
    if (this.faults.delayMs > 0) setTimeout(deliver, this.faults.delayMs).unref();
    else deliver();
    return true;
  }

  /** Closes connections: one identity's, or all. Returns how many were closed. */
  drop(key?: string): number {
    const victims = key === undefined ? [...this.#active.values()] : [this.#active.get(key)].filter((s) => s !== undefined);
    for (const s of victims) {
      this.#opts.logger.info({ key: s.key }, 'dropping connection (fault injection)');
      s.client.close();
    }
    return victims.length;
  }

  setFaults(patch: Partial<Faults>): void {
    Object.assign(this.faults, patch);
    if (!this.faults.stopAcks) this.#releaseAcks();
  }

  async close(): Promise<void> {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#heldAcks = [];
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await new Promise<void>((resolve) => this.#aedes.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  /** Serves one MQTT connection: a TLS socket, or a stream over a WebSocket carried by `socket`. */
  accept(stream: Duplex, socket: tls.TLSSocket, req?: http.IncomingMessage): void {
    const log = this.#opts.logger;
    if (this.#unauthenticated >= MQTT_BOUNDS.unauthenticatedConnections) {
      log.warn(
        { remote: socket.remoteAddress, limit: MQTT_BOUNDS.unauthenticatedConnections },
        'too many connections waiting to authenticate: closing a new one',
      );
      stream.destroy();
      socket.destroy();
      return;
    }
    this.#unauthenticated++;
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    const client = this.#aedes.handle(stream, req);
    const guard = new MqttGuard(stream, (reason) => {
      log.info({ clientId: client.id, reason }, 'connection over its bounds: closing');
      stream.destroy();
      socket.destroy();
    });
    this.#guards.set(client, guard);
    this.#tlsOf.set(client, { socket, transport: stream === socket ? 'mqtts' : 'wss' });
    stream.on('close', () => {
      if (!guard.authenticated) this.#unauthenticated--;
      guard.authenticate(); // counted once
      const t = this.#timers.get(client);
      if (t) clearTimeout(t);
      this.#timers.delete(client);
    });
  }

  #wire(): void {
    const log = this.#opts.logger;
    this.#server.on('secureConnection', (socket: tls.TLSSocket) => this.accept(socket, socket));
    this.#server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
    this.#aedes.on('client', (client) => {
      const s = this.#pending.get(client);
      if (!s) return;
      this.#active.set(s.key, s);
      log.info({ key: s.key, auth: s.auth, transport: s.transport }, 'device connected');
    });
    this.#aedes.on('clientDisconnect', (client) => {
      const s = this.#pending.get(client);
      log.debug({ clientId: client.id, active: s !== undefined && this.#active.get(s.key)?.client === client }, 'client disconnected');
      if (s && this.#active.get(s.key)?.client === client) {
        this.#active.delete(s.key);
        log.info({ key: s.key }, 'device disconnected');
      }
    });
    this.#aedes.on('subscribe', (subs, client) => {
      const s = this.#pending.get(client);
      log.debug({ clientId: client.id, topics: subs.map((x) => x.topic) }, 'subscribed');
      if (s)
        this.#opts.handler.onSubscribed(
          s,
          subs.map((x) => x.topic),
        );
    });
    this.#aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'client error'));
    this.#aedes.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'connection error before CONNECT completed'));
  }

  #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const finish = (err: AuthenticateError | null) => {
      if (err) this.#opts.logger.info({ clientId: client.id, reason: err.message }, 'connection refused');
      const reply = () => done(err, err === null);
      if (this.faults.delayMs > 0) setTimeout(reply, this.faults.delayMs).unref();
      else reply();
    };
    if (this.faults.refuseAuth) return finish(authError(5, 'authentication refused (fault injection)'));
    const conn = this.#tlsOf.get(client);
    const result = authenticate(
      { clientId: client.id ?? '', username, password, peer: () => (conn ? peerChain(conn.socket) : []) },
      {
        hostNames: this.#opts.hostNames,
        credentialOf: (id) => this.#opts.handler.credentialOf(id),
        certificateAuthorities: () => this.#opts.handler.certificateAuthorities(),
      },
    );
    if (!result.ok) {
      // a registry file another process broke: refuse as "server unavailable" and keep serving
      if (result.returnCode === 3) this.#opts.logger.error({ err: result.reason }, 'registry unreadable');
      return finish(authError(result.returnCode, result.reason));
    }
    const { id, key, auth, expiresAt } = result;
    this.#pending.set(client, { id, key, client, auth, transport: conn?.transport ?? 'mqtts', expiresAt });
    const guard = this.#guards.get(client);
    if (guard && !guard.authenticated) {
      guard.authenticate();
      this.#unauthenticated--;
    }
    if (expiresAt !== Infinity) this.#armExpiry(client, expiresAt, key);
    finish(null);
  }

  /** IoT Hub closes a connection when its token expires; the SDK reconnects with a fresh one first. */
  #armExpiry(client: Client, expiresAt: number, key: string): void {
    const wait = expiresAt - Date.now();
    const timer = setTimeout(
      () => {
        if (Date.now() < expiresAt) return this.#armExpiry(client, expiresAt, key);
        this.#opts.logger.info({ key }, 'token expired: closing connection');
        this.#timers.delete(client);
        client.close();
      },
      Math.min(Math.max(wait, 0), MAX_TIMER_MS),
    );
    timer.unref();
    this.#timers.set(client, timer);
  }

  #authorizePublish(client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void): void {
    const s = client ? this.#pending.get(client) : undefined;
    if (!client || !s) return done(new Error('not authenticated'));
    const inbound = parseInbound(packet.topic, s.id);
    if (!inbound) {
      // IoT Hub drops the connection of a device publishing on a topic it does not own
      this.#opts.logger.warn({ key: s.key, topic: packet.topic }, 'publish on a forbidden topic: closing connection');
      return done(new EmulatorError('BadRequest', `topic ${packet.topic} is not allowed for ${s.key}`));
    }
    const run = () => {
      try {
        this.#opts.handler.onPublish(s, inbound, packet.payload as Buffer);
      } catch (err) {
        // MQTT 3.1.1 has no negative PUBACK: IoT Hub answers a rejected PUBLISH by closing the connection
        this.#opts.logger.warn({ key: s.key, topic: packet.topic, err: (err as Error).message }, 'publish rejected: closing connection');
        return done(err as Error);
      }
      if (this.faults.stopAcks && packet.qos === 1) {
        // the message is kept but not acknowledged: the device sees an ack that never comes
        this.#heldAcks.push({ client, ack: () => done(null) });
        return;
      }
      done(null);
    };
    if (this.faults.delayMs > 0) void sleep(this.faults.delayMs).then(run);
    else run();
  }

  #releaseAcks(): void {
    const held = this.#heldAcks;
    this.#heldAcks = [];
    for (const h of held) if (!h.client.closed) h.ack();
  }

  #authorizeSubscribe(client: Client, sub: Subscription, done: (error: Error | null, subscription?: Subscription | null) => void): void {
    const s = this.#pending.get(client);
    if (s && allowedFilters(s.id).includes(sub.topic)) return done(null, sub);
    // refused with SUBACK 0x80: the SDK reports the failed subscription, the connection stays
    this.#opts.logger.warn({ clientId: client.id, topic: sub.topic }, 'subscription refused');
    done(null, null);
  }
}
