// The TPM for the rest of percept: the one module that loads native/tpm2 (turning a load
// failure into one TpmError that lists the fixes) and the typed Tpm class over it. Every
// method is async; native errors become TpmError (code ERR_TPM) with the TSS2 return code.
import { createRequire } from 'node:module';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeBinding, NativeContext, NativeIdentity, NativeTpmError } from './binding.js';
import { TpmError } from './tpm-error.js';
import { ecdsaDer } from './ecdsa.js';
import * as check from './check.js';
import { BANKS, HANDLES, LOADED_SESSION_FIRST, PERSISTENT_FIRST, TRANSIENT_FIRST, hex, type PcrBank } from './handles.js';

/** The kernel's resource-managed TPM device, the right default on a device. */
export const DEFAULT_TCTI = 'device:/dev/tpmrm0';

// dist/src/attest -> project root. PERCEPT_TPM2_ADDON overrides it for packaged installs.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const ADDON_PATH = process.env.PERCEPT_TPM2_ADDON ?? path.join(ROOT, 'native', 'tpm2', 'build', 'Release', 'tpm2.node');

let loaded: NativeBinding | TpmError | undefined;

/** Loads the addon once per thread; throws a TpmError with reason 'unavailable' and the fixes. */
export function loadTpmBinding(): NativeBinding {
  if (loaded === undefined) {
    // tpm2-tss logs every failed command to stderr; percept reports the same failure as a
    // TpmError with the decoded return code, so keep stderr clean unless the user asks
    // (TSS2_LOG=all+debug).
    process.env.TSS2_LOG ??= 'all+none';
    try {
      loaded = createRequire(import.meta.url)(ADDON_PATH) as NativeBinding;
    } catch (cause) {
      loaded = unavailable(cause);
    }
  }
  if (loaded instanceof TpmError) throw loaded;
  return loaded;
}

function unavailable(cause: unknown): TpmError {
  const why = cause instanceof Error ? (cause.message.split('\n')[0] ?? '') : String(cause);
  const missingLib = /libtss2[^:]*\.so/.exec(why);
  return new TpmError(
    'unavailable',
    [
      `The TPM addon could not be loaded from ${ADDON_PATH}: ${why}`,
      'To sign with the TPM:',
      missingLib
        ? `  1. install the tpm2-tss runtime (${missingLib[0]} is missing): apt-get install libtss2-esys-3.0.2-0 libtss2-tctildr0 libtss2-mu0 libtss2-rc0`
        : '  1. install the tpm2-tss development files: apt-get install libtss2-dev pkg-config build-essential',
      '  2. build the addon: node scripts/build-native.mjs',
      '  3. make the TPM reachable: /dev/tpmrm0 must be readable and writable by this user (add it to the tss group), or pass --tcti (e.g. swtpm:host=127.0.0.1,port=2321)',
      'Without a TPM, percept signs with the software key (attestation: software).',
    ].join('\n'),
    { cause },
  );
}

function isNativeError(e: unknown): e is NativeTpmError {
  return e instanceof Error && typeof (e as Partial<NativeTpmError>).rc === 'number';
}

/** TPM_RC_HANDLE from resolving a persistent handle: nothing is stored there. */
function isMissingObject(e: NativeTpmError): boolean {
  return e.operation === 'Esys_TR_FromTPMPublic' && (e.rc & 0xffff00bf) === 0x8b;
}

function translate(e: unknown, op: string, handle?: number): TpmError {
  if (e instanceof TpmError) return e;
  if (e instanceof TypeError) return new TpmError('argument', `${op}: ${e.message}`, { cause: e });
  if (!isNativeError(e)) return new TpmError('command', `${op} failed: ${String(e)}`, { cause: e });
  const details = { rc: e.rc, rcText: e.rcText, operation: e.operation, cause: e };
  if (e.rc === 0 && /not open|closed/.test(e.message)) return new TpmError('closed', `${op}: ${e.message}`, details);
  if (handle !== undefined && isMissingObject(e)) {
    return new TpmError(
      'not-found',
      `${op}: no object at persistent handle ${hex(handle)} (${e.message}). Provision the keys with ensureKeys() or check the handle.`,
      details,
    );
  }
  return new TpmError('command', e.message.startsWith(op) ? e.message : `${op}: ${e.message}`, details);
}

export type TpmIdentity = NativeIdentity;

export interface TpmPublic {
  handle: number;
  type: 'ecc' | 'rsa' | 'keyedhash' | 'other';
  /** TPMA_OBJECT bits. */
  attributes: number;
  /** Restricted signing keys only sign TPM-made structures (quote, certify). */
  restricted: boolean;
  /** TPM name: nameAlg || SHA-256(publicArea); what certify and policies refer to. */
  name: Buffer;
  /** Marshalled TPMT_PUBLIC. */
  publicArea: Buffer;
  /** For ECC P-256 keys: SubjectPublicKeyInfo DER, PEM and a KeyObject for node:crypto. */
  spki: Buffer | null;
  publicKeyPem: string | null;
  publicKey: KeyObject | null;
}

export interface TpmAttestation {
  /** TPMS_ATTEST bytes; the signature is ECDSA-SHA256 over exactly these. */
  attest: Buffer;
  /** DER ECDSA signature by the attestation key. */
  signature: Buffer;
}

export interface PcrValues {
  bank: PcrBank;
  /** Sorted, unique; digests[i] is the value of PCR pcrs[i]. */
  pcrs: number[];
  digests: Buffer[];
  updateCounter: number;
}

export interface TpmHandles {
  transient: number[];
  persistent: number[];
  sessions: number[];
}

export interface TpmOpenOptions {
  /** Operations queued on this context before calls fail with reason 'busy' (default 1024). */
  maxPending?: number;
}

const TYPES: Record<number, TpmPublic['type']> = { 0x23: 'ecc', 0x01: 'rsa', 0x08: 'keyedhash' };
const TPMA_RESTRICTED = 0x10000;

/** Every method is async: invalid arguments reject (reason 'argument') like TPM failures do. */
export class Tpm {
  readonly tcti: string;
  readonly identity: TpmIdentity;
  #ctx: NativeContext;
  #pending = 0;
  #maxPending: number;
  #closed = false;

  private constructor(ctx: NativeContext, tcti: string, identity: TpmIdentity, maxPending: number) {
    this.#ctx = ctx;
    this.tcti = tcti;
    this.identity = identity;
    this.#maxPending = maxPending;
  }

  /** Connects through a TCTI string such as "device:/dev/tpmrm0" or "swtpm:host=127.0.0.1,port=2321". */
  static async open(tcti: string = DEFAULT_TCTI, options: TpmOpenOptions = {}): Promise<Tpm> {
    if (typeof tcti !== 'string' || tcti.length === 0) throw check.invalid('TCTI string', 'tcti', tcti);
    const maxPending = check.integer('maxPending', options.maxPending ?? 1024, 1, 1 << 20);
    const binding = loadTpmBinding();
    const ctx = new binding.Context();
    try {
      const identity = await ctx.open(tcti);
      return new Tpm(ctx, tcti, identity, maxPending);
    } catch (e) {
      await ctx.close().catch(() => undefined);
      const native = isNativeError(e) ? e.message : String(e);
      throw new TpmError(
        'connect',
        `Cannot open the TPM through "${tcti}": ${native}. Check that the TPM is reachable: for a device, that ` +
          '/dev/tpmrm0 exists and this user may read and write it (add it to the tss group); for swtpm, that it ' +
          'runs and listens on that port; and that the TCTI string is right (device:/dev/tpmrm0, swtpm:host=H,port=P).',
        isNativeError(e) ? { rc: e.rc, rcText: e.rcText, operation: e.operation, cause: e } : { cause: e },
      );
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Waits for queued operations, then releases the connection. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#ctx.close();
  }

  async getRandom(size: number): Promise<Buffer> {
    check.integer('size', size, 1, 65536);
    return this.#call('getRandom', () => this.#ctx.getRandom(size));
  }

  /** Creates the signing and attestation keys if missing; reuses them if present. */
  async ensureKeys(handles: { signing?: number; attestation?: number } = {}): Promise<{
    signing: { handle: number; created: boolean };
    attestation: { handle: number; created: boolean };
  }> {
    const signing = check.projectHandle('signing', handles.signing ?? HANDLES.signing);
    const attestation = check.projectHandle('attestation', handles.attestation ?? HANDLES.attestation);
    if (signing === attestation) throw check.invalid('two different handles', 'attestation', attestation);
    const [s, a] = await this.#call('ensureKeys', () =>
      this.#ctx.ensureKeys([
        { handle: signing, kind: 'signing' },
        { handle: attestation, kind: 'attestation' },
      ]),
    );
    if (s === undefined || a === undefined)
      throw new TpmError('command', 'ensureKeys: the TPM addon answered for fewer keys than asked (2)', { operation: 'ensureKeys' });
    return { signing: s, attestation: a };
  }

  async readPublic(handle: number): Promise<TpmPublic> {
    check.persistentHandle('handle', handle);
    const pub = await this.#call('readPublic', () => this.#ctx.readPublic(handle), handle);
    const publicKey = pub.spki ? createPublicKey({ key: pub.spki, format: 'der', type: 'spki' }) : null;
    return {
      handle,
      type: TYPES[pub.type] ?? 'other',
      attributes: pub.attributes,
      restricted: (pub.attributes & TPMA_RESTRICTED) !== 0,
      name: pub.name,
      publicArea: pub.publicArea,
      spki: pub.spki,
      publicKeyPem: publicKey ? (publicKey.export({ format: 'pem', type: 'spki' }) as string) : null,
      publicKey,
    };
  }

  /** ECDSA-SHA256 over a 32-byte digest (sign SHA-256(message) to verify with
   * crypto.verify('sha256', message, key, signature)); DER-encoded. */
  async sign(handle: number, digest: Buffer): Promise<Buffer> {
    check.persistentHandle('handle', handle);
    check.bytes('digest', digest, 32, 32);
    const sig = await this.#call('sign', () => this.#ctx.sign(handle, digest), handle);
    return ecdsaDer(sig.r, sig.s);
  }

  async pcrRead(bank: PcrBank, pcrs: number[]): Promise<PcrValues> {
    check.bank(bank);
    const list = check.pcrList(pcrs);
    const r = await this.#call('pcrRead', () => this.#ctx.pcrRead(BANKS[bank], list));
    return { bank, pcrs: list, digests: r.digests, updateCounter: r.updateCounter };
  }

  /** TPM2_Quote of `pcrs` with the attestation key; `nonce` lands in TPMS_ATTEST.extraData. */
  async quote(akHandle: number, pcrs: number[], nonce: Buffer, bank: PcrBank = 'sha256'): Promise<TpmAttestation> {
    check.persistentHandle('akHandle', akHandle);
    check.bank(bank);
    const list = check.pcrList(pcrs);
    check.bytes('nonce', nonce, 0, 64);
    const r = await this.#call('quote', () => this.#ctx.quote(akHandle, BANKS[bank], list, nonce), akHandle);
    return { attest: r.attest, signature: ecdsaDer(r.signature.r, r.signature.s) };
  }

  /** TPM2_Certify: the attestation key signs that `objectHandle` (its name) lives in this TPM. */
  async certify(objectHandle: number, akHandle: number, nonce: Buffer): Promise<TpmAttestation> {
    check.persistentHandle('objectHandle', objectHandle);
    check.persistentHandle('akHandle', akHandle);
    check.bytes('nonce', nonce, 0, 64);
    const r = await this.#call('certify', () => this.#ctx.certify(objectHandle, akHandle, nonce), objectHandle);
    return { attest: r.attest, signature: ecdsaDer(r.signature.r, r.signature.s) };
  }

  /** Stores an HMAC-SHA256 key (e.g. the IoT Hub SAS key) in the TPM, replacing any earlier one. */
  async importHmacKey(key: Buffer, handle: number = HANDLES.hmac): Promise<void> {
    check.bytes('key', key, 1, 4096);
    check.projectHandle('handle', handle);
    // The TPM refuses HMAC keys longer than the SHA-256 block (64 bytes). RFC 2104 replaces
    // such a key by its hash anyway, so storing SHA-256(key) gives the same HMACs.
    const stored = key.length > 64 ? createHash('sha256').update(key).digest() : key;
    return this.#call('importHmacKey', () => this.#ctx.importHmacKey(handle, stored));
  }

  /** HMAC-SHA256 of `data` computed inside the TPM. */
  async hmac(handle: number, data: Buffer): Promise<Buffer> {
    check.persistentHandle('handle', handle);
    check.bytes('data', data, 0, 16 << 20);
    return this.#call('hmac', () => this.#ctx.hmac(handle, data), handle);
  }

  async evictPersistent(handle: number): Promise<void> {
    check.projectHandle('handle', handle);
    return this.#call('evictPersistent', () => this.#ctx.evictPersistent(handle), handle);
  }

  /** Handles the TPM holds now: a leak check is transient.length and sessions.length. */
  async handles(): Promise<TpmHandles> {
    const [transient, persistent, sessions] = await Promise.all([
      this.#call('handles', () => this.#ctx.listHandles(TRANSIENT_FIRST)),
      this.#call('handles', () => this.#ctx.listHandles(PERSISTENT_FIRST)),
      this.#call('handles', () => this.#ctx.listHandles(LOADED_SESSION_FIRST)),
    ]);
    return { transient, persistent, sessions };
  }

  async #call<T>(op: string, run: () => Promise<T>, handle?: number): Promise<T> {
    if (this.#closed) throw new TpmError('closed', `${op}: the TPM context is closed`);
    if (this.#pending >= this.#maxPending) {
      throw new TpmError('busy', `${op}: ${this.#pending} TPM operations already queued (max ${this.#maxPending}); await some first`);
    }
    this.#pending++;
    try {
      return await run();
    } catch (e) {
      throw translate(e, op, handle);
    } finally {
      this.#pending--;
    }
  }
}
