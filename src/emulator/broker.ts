// The MQTT front end: aedes over node:tls on loopback. It authenticates CONNECTs with SAS
// tokens, closes connections whose token expires, confines each identity to IoT Hub's topics,
// hands publishes to the hub and delivers the hub's messages to one connection at a time.
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import { EmulatorError } from './errors.js';
import { parseSas, resourceMatches, signatureMatches } from './sas.js';
import { allowedFilters, parseInbound, type Inbound } from './topics.js';
import { identityKey, type EmulatorLogger, type Identity } from './types.js';

export interface Session {
  id: Identity;
  key: string;
  client: Client;
  /** Token expiry, ms since the epoch. */
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
  /** The key of a registered identity, or null. */
  keyOf(id: Identity): string | null;
  /** Handles a device's publish; throwing an EmulatorError drops the connection (IoT Hub's answer to a bad PUBLISH). */
  onPublish(session: Session, inbound: Inbound, payload: Buffer): void;
  onSubscribed(session: Session, filters: string[]): void;
}

export interface BrokerOptions {
  port: number;
  tls: { keyPem: string; certPem: string };
  /** Host names a token's `sr` and the username may carry (with and without port). */
  hostNames: () => string[];
  handler: BrokerHandler;
  logger: EmulatorLogger;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

function authError(returnCode: 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
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
      authenticate: (client, username, password, done) => ref.self!.#authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => ref.self!.#authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => ref.self!.#authorizeSubscribe(client, sub, done),
    });
    const server = tls.createServer({ key: opts.tls.keyPem, cert: opts.tls.certPem, minVersion: 'TLSv1.2' });
    const self = new Broker(aedes, server, opts);
    ref.self = self;
    self.#wire();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
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

  #wire(): void {
    const log = this.#opts.logger;
    this.#server.on('secureConnection', (socket: tls.TLSSocket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      const client = this.#aedes.handle(socket);
      socket.on('close', () => {
        const t = this.#timers.get(client);
        if (t) clearTimeout(t);
        this.#timers.delete(client);
      });
    });
    this.#server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
    this.#aedes.on('client', (client) => {
      const s = this.#pending.get(client);
      if (!s) return;
      this.#active.set(s.key, s);
      log.info({ key: s.key }, 'device connected');
    });
    this.#aedes.on('clientDisconnect', (client) => {
      const s = this.#pending.get(client);
      if (s && this.#active.get(s.key)?.client === client) {
        this.#active.delete(s.key);
        log.info({ key: s.key }, 'device disconnected');
      }
    });
    this.#aedes.on('subscribe', (subs, client) => {
      const s = this.#pending.get(client);
      if (s) this.#opts.handler.onSubscribed(s, subs.map((x) => x.topic));
    });
    this.#aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'client error'));
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
    const parts = (client.id ?? '').split('/');
    if (parts.length > 2 || parts.some((p) => p === '')) return finish(authError(4, `client id ${client.id} is not deviceId or deviceId/moduleId`));
    const id: Identity = { deviceId: parts[0], moduleId: parts[1] ?? null };
    const key = identityKey(id);
    // IoT Hub's username: {host}/{deviceId}[/{moduleId}]/?api-version=…
    const user = username ?? '';
    const hosts = this.#opts.hostNames();
    const userOk = hosts.some((h) => {
      const prefix = `${h}/${key}/`;
      return user.toLowerCase().startsWith(prefix.toLowerCase()) && user.slice(prefix.length).startsWith('?') && /[?&]api-version=/.test(user);
    });
    if (!userOk) return finish(authError(4, `username ${JSON.stringify(user)} is not {host}/${key}/?api-version=…`));
    const sas = password ? parseSas(password.toString('utf8')) : null;
    if (!sas) return finish(authError(4, 'password is not a SharedAccessSignature token (X.509 is not supported)'));
    let deviceKey: string | null;
    try {
      deviceKey = this.#opts.handler.keyOf(id);
    } catch (err) {
      // a registry file another process broke: refuse as "server unavailable" and keep serving
      this.#opts.logger.error({ err: (err as Error).message }, 'registry unreadable');
      return finish(Object.assign(new Error((err as Error).message), { returnCode: 3 }) as AuthenticateError);
    }
    if (deviceKey === null) return finish(authError(5, `identity ${key} is not registered`));
    if (!resourceMatches(sas, hosts, id)) return finish(authError(5, `token resource ${sas.sr} does not name ${key} on this hub`));
    if (!signatureMatches(sas, deviceKey)) return finish(authError(5, `token signature for ${key} does not match its key`));
    const expiresAt = sas.se * 1000;
    if (expiresAt <= Date.now()) return finish(authError(5, `token for ${key} expired at ${new Date(expiresAt).toISOString()}`));
    this.#pending.set(client, { id, key, client, expiresAt });
    this.#armExpiry(client, expiresAt, key);
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
