// The link to IoT Hub (or edgeHub): one SDK client over MQTT (or MQTT over WebSockets),
// authenticated by a SAS connection string, an X.509 certificate, or the IoT Edge
// environment. Supervision is ours, not the SDK's: retries with backoff and full jitter
// decided by error codes, a deadline on every send, SAS tokens renewed by a planned reconnect
// (sends drained first), and routine disconnects (token lifetime, edgeHub's hourly one) told apart.

import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { device, observedTransport, type Client, type ModuleClient, type MqttJsClient, type Twin, type TransportFact } from './sdk.js';
import { Connection } from './connection.js';
import { registerMethod, type MethodHandler } from './methods.js';
import { backoffMs, classify, explainFailure, needsAttention, type FailureKind } from './retry.js';
import type { Logger } from '../log.js';
import type { LinkState } from '../status.js';
import type { OutboxRow } from './outbox.js';
import { EVENT_TYPE_EVENT } from '../telemetry/encode.js';
import { PerceptError } from '../errors.js';
import type { Tpm } from '../attest/tpm.js';
import { connectionStringFields } from './connection-string.js';
import { Metrics } from '../metrics.js';
import { hubMetrics, type HubMetrics } from './metrics.js';

export interface LinkOptions {
  connectionString?: string;
  edge?: boolean;
  /** PEM text, not paths. */
  ca?: string;
  cert?: string;
  key?: string;
  transport: 'mqtt' | 'mqttws';
  /** Module output name for sendOutputEvent. */
  output: string;
  /** Module output of track events (messages whose `eventType` property is `event`); default `output`. */
  eventsOutput?: string;
  logger: Logger;
  /** A send not acknowledged within this long counts as failed (the silent-hang case). */
  sendTimeoutMs?: number;
  /** Full-jitter backoff bounds for connection attempts. */
  backoffMs?: [number, number];
  /** Validity of each SAS token; the link reconnects with a fresh one before it expires. */
  tokenTtlSeconds?: number;
  /** A connection attempt (CONNECT and twin) not done within this long is abandoned. */
  connectTimeoutMs?: number;
  /** The TPM holding the SAS key, for connection strings marked SharedAccessKeyInTpm=true. */
  tpm?: () => Promise<Tpm>;
  /** The agent's metrics registry; the link counts its reconnects and renewals there (default: its own). */
  metrics?: Metrics;
}

/** What the link tells its owner: each state change, and each failed connection attempt by kind. */
export interface LinkEvents {
  /** Also re-emitted with the same state while sends drain for a token renewal (`ready` turned false). */
  state: [state: LinkState];
  failure: [kind: FailureKind];
}

export interface LinkStats {
  /** Connections made after the first one, for whatever reason. */
  reconnects: number;
  /** Planned reconnects that renewed the SAS token. */
  tokenRenewals: number;
  /** Disconnects by the hub at the end of a token's life or after an hour (edgeHub's), not errors. */
  routineDisconnects: number;
  /** The kind of the last failed connection attempt (from error codes). */
  lastFailure: FailureKind | null;
}

/** A disconnect by the hub after this long is edgeHub's hourly one for modules: routine. */
const ROUTINE_AGE_MS = 55 * 60_000;

export type { MethodResult, MethodHandler } from './methods.js';

/** The id a verifier's keys file names the device by: its DeviceId, or DeviceId/ModuleId for a module. */
export function deviceKeyOf(cs: string): string {
  const id = identityOf(cs);
  return id.moduleId ? `${id.deviceId}/${id.moduleId}` : id.deviceId;
}

/** deviceKeyOf the connection string in PERCEPT_CONNECTION_STRING, if one is set. */
export function envDeviceKey(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const cs = env.PERCEPT_CONNECTION_STRING;
  return cs ? deviceKeyOf(cs) : undefined;
}

/** Parses `HostName=...;DeviceId=...;ModuleId=...` without keeping the key anywhere. */
export function identityOf(cs: string): { host: string; deviceId: string; moduleId?: string; x509: boolean; keyInTpm: boolean } {
  const parts = connectionStringFields(cs);
  const host = parts.get('HostName');
  const deviceId = parts.get('DeviceId');
  const keyInTpm = parts.get('SharedAccessKeyInTpm') === 'true';
  if (!host || !deviceId || (!parts.get('SharedAccessKey') && !parts.get('SharedAccessSignature') && parts.get('x509') !== 'true' && !keyInTpm)) {
    throw new PerceptError(
      'ERR_CONFIG',
      'the hub connection string must hold HostName, DeviceId and SharedAccessKey (or x509=true); copy it from the IoT Hub device page or `percept hub device add`',
    );
  }
  return { host, deviceId, moduleId: parts.get('ModuleId') || undefined, x509: parts.get('x509') === 'true', keyInTpm };
}

export class HubLink extends EventEmitter<LinkEvents> {
  #conn: Connection | null = null;
  /** The mqtt.js clients under each SDK client. */
  readonly #wires = new WeakMap<Client | ModuleClient, MqttJsClient[]>();
  #epoch = 0;
  #fact: TransportFact | null = null;
  #draining = false;
  #renewTimer: NodeJS.Timeout | null = null;
  #lastFailure: FailureKind | null = null;
  #lastLoss: { epoch: number; by: 'hub' | 'agent' | 'renewal'; at: number } | null = null;
  #state: LinkState = 'disconnected';
  #closed = false;
  readonly #m: HubMetrics;
  #lastError: string | null = null;
  #connecting: Promise<void> | null = null;
  #methods = new Map<string, MethodHandler>();
  #desired: ((patch: Record<string, unknown>, full: boolean) => void) | null = null;
  /** Ends the backoff sleeps when the link closes, so no timer outlives a stopped agent. */
  readonly #closing = new AbortController();
  #twin: Twin | null = null;
  readonly host: string;
  readonly deviceId: string;
  readonly moduleId?: string;
  readonly auth: 'sas' | 'x509' | 'edge' | 'tpm';
  readonly #o: LinkOptions & { sendTimeoutMs: number; backoffMs: [number, number]; tokenTtlSeconds: number; connectTimeoutMs: number };
  /** False for X.509 and for a connection string holding a fixed SharedAccessSignature. */
  readonly #renewable: boolean;

  constructor(opts: LinkOptions) {
    super();
    this.#o = { sendTimeoutMs: 30_000, backoffMs: [500, 30_000], tokenTtlSeconds: 3600, connectTimeoutMs: 30_000, ...opts };
    this.#m = hubMetrics(opts.metrics ?? new Metrics());
    this.#m.connected.set(0);
    const cs = opts.connectionString ?? '';
    this.#renewable =
      opts.edge === true || !(/(^|;)\s*x509=true/i.test(cs) || (/(^|;)\s*SharedAccessSignature=/i.test(cs) && !/(^|;)\s*SharedAccessKey=/i.test(cs)));
    if (opts.edge) {
      this.host = process.env.IOTEDGE_GATEWAYHOSTNAME ?? process.env.IOTEDGE_IOTHUBHOSTNAME ?? 'edgeHub';
      this.deviceId = process.env.IOTEDGE_DEVICEID ?? '';
      this.moduleId = process.env.IOTEDGE_MODULEID;
      this.auth = 'edge';
      if (!this.deviceId || !this.moduleId) {
        throw new PerceptError(
          'ERR_CONFIG',
          'running as an IoT Edge module needs IOTEDGE_DEVICEID and IOTEDGE_MODULEID (set by the IoT Edge runtime); outside IoT Edge use --connection-string',
        );
      }
    } else if (opts.connectionString) {
      const id = identityOf(opts.connectionString);
      this.host = id.host;
      this.deviceId = id.deviceId;
      this.moduleId = id.moduleId;
      this.auth = id.x509 ? 'x509' : id.keyInTpm ? 'tpm' : 'sas';
      if (id.x509 && (!opts.cert || !opts.key)) throw new PerceptError('ERR_CONFIG', 'an x509=true connection string needs --cert and --key (PEM files)');
    } else {
      throw new PerceptError('ERR_CONFIG', 'no hub identity: pass --connection-string, or run under IoT Edge');
    }
  }

  get state(): LinkState {
    return this.#state;
  }
  get reconnects(): number {
    return this.#m.reconnects.value();
  }
  /** Connected and taking sends (not while draining for a token renewal). */
  get ready(): boolean {
    return this.#state === 'connected' && this.#conn !== null && !this.#conn.dead && !this.#draining;
  }
  /** The number of the current connection (0 before the first). */
  get epoch(): number {
    return this.#conn?.epoch ?? this.#epoch;
  }
  /** How the last connection ended: closed by the hub, dropped by us (watchdog), or renewed. */
  get lastLoss(): { epoch: number; by: 'hub' | 'agent' | 'renewal'; at: number } | null {
    return this.#lastLoss;
  }
  stats(): LinkStats {
    return {
      reconnects: this.#m.reconnects.value(),
      tokenRenewals: this.#m.tokenRenewals.value(),
      routineDisconnects: this.#m.routineDisconnects.value(),
      lastFailure: this.#lastFailure,
    };
  }
  get #client(): Client | ModuleClient | null {
    return this.#conn?.client ?? null;
  }
  get lastError(): string | null {
    return this.#lastError;
  }

  #setState(s: LinkState): void {
    if (s === this.#state) return;
    this.#state = s;
    this.#m.connected.set(s === 'connected' ? 1 : 0);
    this.emit('state', s);
  }

  async #build(): Promise<Client | ModuleClient> {
    const wires: MqttJsClient[] = [];
    const T = observedTransport(
      this.#o.transport,
      (f) => (this.#fact = f),
      (w) => wires.push(w),
    );
    let client: Client | ModuleClient;
    if (this.#o.edge) client = await device.ModuleClient.fromEnvironment(T);
    else if (this.auth === 'tpm') {
      // SAS tokens signed inside the TPM (percept tpm import-key): the key never enters this process.
      if (!this.#o.tpm) throw new PerceptError('ERR_CONFIG', 'a connection string with SharedAccessKeyInTpm=true needs the TPM (--tcti)');
      const { checkedTpmProvider } = await import('./tpm-auth.js');
      const provider = await checkedTpmProvider(this.#o.connectionString!, this.#o.tpm);
      client = this.moduleId ? device.ModuleClient.fromAuthenticationProvider(provider, T) : device.Client.fromAuthenticationProvider(provider, T);
    } else if (this.moduleId) client = device.ModuleClient.fromConnectionString(this.#o.connectionString!, T);
    else client = device.Client.fromConnectionString(this.#o.connectionString!, T);
    const options: Record<string, unknown> = {};
    if (this.#o.ca) options.ca = this.#o.ca;
    if (this.#o.cert) options.cert = this.#o.cert;
    if (this.#o.key) options.key = this.#o.key;
    // The SDK's own in-place renewal stays as a backstop one second before expiry; ours comes first.
    // Not under IoT Edge: the transport's setOptions replaces the trust bundle the SDK set there.
    if (this.auth === 'sas' || this.auth === 'tpm') options.tokenRenewal = { tokenValidTimeInSeconds: this.#o.tokenTtlSeconds, tokenRenewalMarginInSeconds: 1 };
    if (Object.keys(options).length) await client.setOptions(options);
    // Our supervision decides about retries, by error code; the SDK's would hide outages.
    client.setRetryPolicy({ shouldRetry: () => false, nextRetryTimeout: () => -1 });
    client.on('error', (e: Error) => this.#lost(e, client, 'hub'));
    client.on('disconnect', () => this.#lost(new Error('disconnected by the hub'), client, 'hub'));
    this.#wires.set(client, wires);
    return client;
  }

  /**
   * Connects, retrying with backoff until it works or the link is closed. Rejects with
   * ERR_CONFIG when the first attempt finds the configuration unusable (a TPM-held key with no
   * TPM): retrying cannot fix that.
   */
  open(firstDelayMs = 0): Promise<void> {
    this.#connecting ??= this.#connectLoop(firstDelayMs).finally(() => (this.#connecting = null));
    return this.#connecting;
  }

  async #connectLoop(firstDelayMs: number): Promise<void> {
    if (firstDelayMs > 0 && !(await this.#pause(firstDelayMs))) return;
    for (let attempt = 0; !this.#closed; attempt++) {
      this.#setState('connecting');
      this.#fact = null;
      let client: Client | ModuleClient | null = null;
      let timedOut = false;
      try {
        client = await this.#build();
        const issuedAt = Date.now();
        await this.#deadline(client.open(), () => (timedOut = true));
        if (this.#closed) {
          await client.close().catch(() => undefined);
          return;
        }
        // The SDK signs `se = floor(now) + ttl` while opening: the hub closes the connection then.
        const expiresAt = this.#renewable ? Math.floor(issuedAt / 1000) * 1000 + this.#tokenTtlS() * 1000 : null;
        const conn = new Connection(client, ++this.#epoch, expiresAt);
        this.#conn = conn;
        if (conn.epoch > 1) this.#m.reconnects.inc();
        this.#o.logger.info(
          { host: this.host, deviceId: this.deviceId, moduleId: this.moduleId, auth: this.auth, connection: conn.epoch },
          'connected to the hub',
        );
        // Methods are registered on the live connection, not before open(): a listener added to
        // a closed client makes the SDK connect on its own, and when that attempt fails and
        // open()'s queued one works, the client is connected but never subscribes to methods.
        // Here each subscribes at once, and a refused subscription (an 'error' on the client)
        // drops the connection (#lost), which fails this attempt.
        for (const [name, handler] of this.#methods) registerMethod(client, this.moduleId !== undefined, name, handler);
        await this.#deadline(this.#attachTwin(client), () => (timedOut = true));
        if (conn.dead) throw new PerceptError('ERR_HUB_OFFLINE', 'the connection was lost while attaching the twin');
        this.#scheduleRenewal(conn);
        this.#setState('connected');
        return;
      } catch (e) {
        if (this.#conn?.client === client) this.#conn = null;
        if (client) this.#discard(client);
        if (this.#closed) return;
        // Only the very first attempt decides that the configuration cannot work; later, what
        // worked once may come back (a TPM restarting), so it is retried like anything else.
        if (PerceptError.is(e, 'ERR_CONFIG') && attempt === 0 && this.#epoch === 0 && firstDelayMs === 0) {
          this.#lastError = e.message;
          this.#setState('disconnected');
          throw e;
        }
        // Set by the transport's listener while opening (TypeScript cannot see that).
        const fact = this.#fact as TransportFact | null;
        const kind = classify(fact, timedOut);
        const code = fact?.errno ?? fact?.connack;
        const known = explainFailure(fact);
        this.#lastFailure = kind;
        this.#lastError = `${known?.message ?? (e as Error).message}${code === undefined ? '' : ` (${code})`}`;
        const delay = backoffMs(kind, attempt, this.#o.backoffMs);
        const fields = { host: this.host, kind, code, ...(known ? { errorCode: known.code } : {}), error: this.#lastError, retryInMs: Math.round(delay) };
        if (known) this.#o.logger.error(fields, `${known.message}; retrying`);
        else if (needsAttention(kind))
          this.#o.logger.error(fields, 'the hub refused the connection; check the connection string, key, certificate or CA; retrying');
        else this.#o.logger.warn(fields, 'hub connection failed; retrying');
        this.#setState('disconnected');
        this.emit('failure', kind);
        if (!(await this.#pause(delay))) return;
      }
    }
  }

  /** Waits `ms`, or less when the link closes first; false then. */
  async #pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: this.#closing.signal });
      return !this.#closed;
    } catch {
      return false;
    }
  }

  /** Rejects when `work` takes longer than the connect timeout (a hub that accepts and stays silent). */
  async #deadline<T>(work: Promise<T>, onTimeout: () => void): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new PerceptError('ERR_HUB_TIMEOUT', `no answer from the hub within ${this.#o.connectTimeoutMs} ms`));
      }, this.#o.connectTimeoutMs);
    });
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  #discard(client: Client | ModuleClient): void {
    client.removeAllListeners();
    client.on('error', () => undefined);
    // Cut the socket first: the SDK's close then finds it closed instead of waiting forever for
    // PUBACKs a silent hub never sends (with its token timer keeping the process alive).
    for (const w of this.#wires.get(client) ?? []) w.end(true);
    void client.close().catch(() => undefined);
  }

  /**
   * Token lifetime as far as we are concerned. Under IoT Edge the SDK signs one-hour tokens and
   * renews them in place 15 minutes before expiry: ours must come before that.
   */
  #tokenTtlS(): number {
    return this.auth === 'edge' ? 3600 - 900 : this.#o.tokenTtlSeconds;
  }

  #renewMarginMs(): number {
    return Math.min(300, Math.max(2, this.#tokenTtlS() * 0.2)) * 1000;
  }

  #scheduleRenewal(conn: Connection): void {
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    this.#renewTimer = null;
    if (conn.expiresAt === null) return;
    this.#renewTimer = setTimeout(() => void this.#renew(conn), Math.max(0, conn.expiresAt - this.#renewMarginMs() - Date.now()));
    this.#renewTimer.unref();
  }

  /** A planned reconnect with a fresh token, after the sends in flight are acknowledged. */
  async #renew(conn: Connection): Promise<void> {
    if (this.#conn !== conn || this.#closed) return;
    this.#draining = true;
    this.emit('state', this.#state);
    const until = Math.min(Date.now() + 2000, (conn.expiresAt ?? Infinity) - 500);
    while (conn.inflight > 0 && !conn.dead && Date.now() < until) if (!(await this.#pause(10))) break;
    this.#draining = false;
    if (this.#conn !== conn || this.#closed) return;
    this.#m.tokenRenewals.inc();
    this.#lost(new Error('SAS token renewal'), conn.client, 'renewal');
  }

  async #attachTwin(client: Client | ModuleClient): Promise<void> {
    try {
      const twin = await client.getTwin();
      this.#twin = twin;
      // A failed desired-properties subscription is emitted on the twin: without a listener it
      // would end the process. The connection is dropped and made again instead.
      twin.on('error', (e: Error) => this.#lost(e, client, 'hub'));
      // The SDK's first event on a new listener is the whole document, then patches follow.
      let full = true;
      twin.on('properties.desired', (patch: Record<string, unknown>) => {
        const first = full;
        full = false;
        this.#desired?.(patch, first);
      });
    } catch (e) {
      this.#o.logger.warn({ error: (e as Error).message }, 'module twin unavailable');
    }
  }

  #lost(e: Error, client: Client | ModuleClient | null, cause: 'hub' | 'agent' | 'renewal'): void {
    const conn = this.#conn;
    if (this.#closed || !conn || (client !== null && conn.client !== client)) return;
    conn.kill(e.message);
    this.#lastLoss = { epoch: conn.epoch, by: cause, at: Date.now() };
    this.#conn = null;
    this.#twin = null;
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    this.#renewTimer = null;
    const now = Date.now();
    const log = { error: e.message, connection: conn.epoch, code: this.#fact?.errno, connectedMs: now - conn.connectedAt };
    let unplanned = false;
    if (cause === 'renewal') this.#o.logger.info(log, 'renewing the SAS token: reconnecting with a fresh one');
    else if (cause === 'hub' && (now - conn.connectedAt >= ROUTINE_AGE_MS || (conn.expiresAt !== null && now >= conn.expiresAt - this.#renewMarginMs()))) {
      // IoT Hub closes a connection whose token expired; edgeHub closes module connections hourly.
      this.#m.routineDisconnects.inc();
      this.#o.logger.info(log, 'routine disconnect by the hub (token lifetime); reconnecting');
    } else {
      unplanned = cause === 'hub';
      this.#lastError = e.message;
      this.#o.logger.warn(log, cause === 'hub' ? 'hub connection lost; reconnecting' : 'dropping the hub connection; reconnecting');
    }
    const wasConnected = this.#state === 'connected';
    if (wasConnected) this.#setState('disconnected');
    this.#discard(conn.client);
    // After an unplanned loss the first attempt is jittered too: a fleet whose hub dropped
    // them together does not come back in one burst. Renewals and routine ones go at once.
    if (wasConnected) void this.open(unplanned ? backoffMs('network', 0, this.#o.backoffMs) : 0);
  }

  /** Drops the connection and reconnects (after a send deadline passed, for instance). */
  reconnect(reason: string): void {
    if (this.#state === 'connected') this.#lost(new Error(reason), null, 'agent');
  }

  /** Sends one outbox row; resolves on the hub's acknowledgement. */
  async send(row: OutboxRow): Promise<void> {
    const conn = this.#conn;
    if (!conn || conn.dead || this.#state !== 'connected') throw new PerceptError('ERR_HUB_OFFLINE', 'not connected to the hub');
    const client = conn.client;
    const msg = new device.Message(row.body);
    msg.messageId = row.messageId;
    msg.contentType = row.contentType;
    msg.contentEncoding = row.contentEncoding;
    for (const [k, v] of Object.entries(row.properties)) msg.properties.add(k, v);
    const sending = this.moduleId && this.#o.edge ? (client as ModuleClient).sendOutputEvent(this.outputOf(row), msg) : client.sendEvent(msg);
    await conn.send(sending, this.#o.sendTimeoutMs);
  }

  /** The IoT Edge output a row leaves by: track events by their own (the row's properties say which it is, across restarts). */
  outputOf(row: Pick<OutboxRow, 'properties'>): string {
    return row.properties.eventType === EVENT_TYPE_EVENT ? (this.#o.eventsOutput ?? this.#o.output) : this.#o.output;
  }

  onMethod(name: string, handler: MethodHandler): void {
    this.#methods.set(name, handler);
    if (this.#client) registerMethod(this.#client, this.moduleId !== undefined, name, handler);
  }

  /** Desired-property patches; `full` marks the first call on each connection, which carries the whole document. */
  onDesired(fn: (patch: Record<string, unknown>, full: boolean) => void): void {
    this.#desired = fn;
  }

  async getDesired(): Promise<Record<string, unknown> | null> {
    const desired: Record<string, unknown> | undefined = this.#twin?.properties.desired;
    return desired ?? null;
  }

  async report(patch: Record<string, unknown>): Promise<void> {
    const twin = this.#twin;
    if (!twin) throw new PerceptError('ERR_HUB', 'the module twin is not available');
    const reported = twin.properties.reported as { update(patch: Record<string, unknown>, done: (e?: Error) => void): void };
    await new Promise<void>((resolve, reject) => reported.update(patch, (e?: Error) => (e ? reject(e) : resolve())));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    const conn = this.#conn;
    this.#conn = null;
    this.#setState('closed');
    conn?.kill('the link was closed');
    // The SDK's close waits for outstanding acknowledgements: a silent hub must not hold shutdown.
    let timer: NodeJS.Timeout | undefined;
    const closed = conn
      ? await Promise.race([
          conn.client.close().then(
            () => true,
            () => true,
          ),
          new Promise<false>((r) => (timer = setTimeout(() => r(false), 2000))),
        ])
      : true;
    clearTimeout(timer);
    if (!closed && conn) this.#discard(conn.client);
  }
}
