// SAS tokens signed inside the TPM: an authentication provider for the Azure IoT device SDK
// whose HMAC runs on the TPM's keyed-hash object, so the device key never sits in this
// process's memory. It renews the token before expiry and tells the transport, as the SDK's own does.
import { EventEmitter } from 'node:events';
import type { AuthenticationProvider, TransportConfig } from 'azure-iot-common';
import { PerceptError } from '../errors.js';
import { HANDLES } from '../attest/handles.js';
import type { Tpm } from '../attest/tpm.js';
import { connectionStringFields } from './connection-string.js';

/** The connection-string marker `percept tpm import-key` prints in place of SharedAccessKey. */
export const KEY_IN_TPM = 'SharedAccessKeyInTpm=true';

/** azure-iot-common's AuthenticationType.Token; the SDK compares `type` by value. */
const TOKEN = 1;

export interface SasIdentity {
  host: string;
  deviceId: string;
  moduleId?: string;
  gatewayHostName?: string;
  sharedAccessKeyName?: string;
}

export interface TokenLifetime {
  /** Validity of each token (default 3600 s, as the SDK). */
  tokenValidSeconds?: number;
  /** Renew this long before expiry (default 900 s). */
  renewalMarginSeconds?: number;
}

export function keyInTpm(connectionString: string): boolean {
  return connectionString.split(';').some((p) => p.trim().replace(/\s*=\s*/, '=') === KEY_IN_TPM);
}

// encodeURIComponent plus the characters it leaves alone that IoT Hub wants encoded: the SDK's
// encodeUriComponentStrict, so our resource string is byte-for-byte what the SDK would sign.
function strict(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16));
}

export class TpmSasProvider extends EventEmitter implements AuthenticationProvider {
  readonly type = TOKEN as AuthenticationProvider['type'];
  readonly #sign: (data: Buffer) => Promise<Buffer>;
  readonly #credentials: TransportConfig;
  #valid: number;
  #margin: number;
  #expiry: number | undefined;
  #timer: NodeJS.Timeout | null = null;

  constructor(identity: SasIdentity, sign: (data: Buffer) => Promise<Buffer>, lifetime: TokenLifetime = {}) {
    super();
    this.#sign = sign;
    this.#credentials = { ...identity };
    this.#valid = lifetime.tokenValidSeconds ?? 3600;
    this.#margin = lifetime.renewalMarginSeconds ?? 900;
    if (this.#valid <= this.#margin) throw new PerceptError('ERR_CONFIG', 'the SAS token renewal margin must be shorter than its validity');
  }

  /** A provider for a `...;SharedAccessKeyInTpm=true` connection string, signing with `tpm`. */
  static fromConnectionString(cs: string, tpm: Tpm, lifetime: TokenLifetime = {}, handle: number = HANDLES.hmac): TpmSasProvider {
    const parts = connectionStringFields(cs);
    const host = parts.get('HostName');
    const deviceId = parts.get('DeviceId');
    if (!host || !deviceId) throw new PerceptError('ERR_CONFIG', 'the connection string must hold HostName and DeviceId');
    const identity: SasIdentity = {
      host,
      deviceId,
      moduleId: parts.get('ModuleId'),
      gatewayHostName: parts.get('GatewayHostName'),
      sharedAccessKeyName: parts.get('SharedAccessKeyName'),
    };
    return new TpmSasProvider(identity, (data) => tpm.hmac(handle, data), lifetime);
  }

  getDeviceCredentials(): Promise<TransportConfig>;
  getDeviceCredentials(callback: (err?: Error, credentials?: TransportConfig) => void): void;
  getDeviceCredentials(callback?: (err?: Error, credentials?: TransportConfig) => void): Promise<TransportConfig> | void {
    const run = this.#current();
    if (!callback) return run;
    run.then(
      (c) => callback(undefined, c),
      (e: Error) => callback(e),
    );
  }

  setTokenRenewalValues(tokenValidSeconds: number, renewalMarginSeconds: number): void {
    if (tokenValidSeconds <= renewalMarginSeconds) throw new PerceptError('ERR_CONFIG', 'the SAS token renewal margin must be shorter than its validity');
    this.#valid = tokenValidSeconds;
    this.#margin = renewalMarginSeconds;
    if (this.#timer) void this.#renewNow();
  }

  /** The transport hands over a token it was given; keep it until ours replaces it. */
  updateSharedAccessSignature(token: string): void {
    this.#credentials.sharedAccessSignature = token;
  }

  /** Stops renewing (the transport calls this when it disconnects). */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#expiry = undefined;
  }

  async #current(): Promise<TransportConfig> {
    const now = Math.floor(Date.now() / 1000);
    if (this.#expiry === undefined || this.#expiry - now < this.#margin) {
      await this.#renew();
      this.#schedule();
    }
    return this.#credentials;
  }

  async #renew(): Promise<void> {
    const c = this.#credentials;
    const expiry = Math.floor(Date.now() / 1000) + this.#valid;
    const sr = strict(`${c.host}/devices/${c.deviceId}${c.moduleId ? `/modules/${c.moduleId}` : ''}`);
    const sig = await this.#sign(Buffer.from(`${sr}\n${expiry}`, 'utf8'));
    const skn = c.sharedAccessKeyName ? `&skn=${strict(c.sharedAccessKeyName)}` : '';
    c.sharedAccessSignature = `SharedAccessSignature sr=${sr}&sig=${strict(sig.toString('base64'))}${skn}&se=${expiry}`;
    this.#expiry = expiry;
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#renewNow(), (this.#valid - this.#margin) * 1000);
    // Renewal must not keep a finished process alive.
    this.#timer.unref();
  }

  async #renewNow(): Promise<void> {
    try {
      await this.#renew();
      this.#schedule();
      this.emit('newTokenAvailable', this.#credentials);
    } catch (e) {
      // An unheard 'error' would crash the process; unrenewed, the token expires and the
      // link reconnects with a fresh provider, which is the retry.
      if (this.listenerCount('error')) this.emit('error', e);
    }
  }
}

/**
 * A provider whose first token is already signed, so a TPM that cannot be reached, or that
 * lacks the imported key, fails here as a configuration error with the next step, instead of
 * as an unexplained connection failure retried forever.
 */
export async function checkedTpmProvider(cs: string, tpm: () => Promise<Tpm>): Promise<TpmSasProvider> {
  try {
    const provider = TpmSasProvider.fromConnectionString(cs, await tpm());
    await provider.getDeviceCredentials();
    return provider;
  } catch (e) {
    const why = PerceptError.is(e) ? `[${e.code}] ${e.message}` : (e as Error).message;
    throw new PerceptError(
      'ERR_CONFIG',
      `the connection string says SharedAccessKeyInTpm=true, but the TPM cannot sign with the device key: ${why}. Start the TPM (or swtpm) and point --tcti at it, import the key with \`percept tpm import-key\`, or use a connection string with SharedAccessKey`,
      { cause: e },
    );
  }
}
