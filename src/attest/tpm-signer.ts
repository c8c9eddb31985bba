// TpmSigner: the Signer whose private key never leaves the TPM. Opens the TPM, makes sure
// the project's signing and attestation keys exist, and signs SHA-256(digest) in the TPM
// so its signatures verify exactly like the software signer's.
import { createHash } from 'node:crypto';
import { HANDLES } from './handles.js';
import { keyIdOf, type Signer } from './signer.js';
import { Tpm, DEFAULT_TCTI, type TpmPublic } from './tpm.js';
import { TpmError } from './tpm-error.js';

export interface TpmSignerOptions {
  /** TCTI string (default device:/dev/tpmrm0). */
  tcti?: string;
  /** Use this already open Tpm instead (the signer then does not close it). */
  tpm?: Tpm;
  signingHandle?: number;
  attestationHandle?: number;
}

export class TpmSigner implements Signer {
  readonly attestation = 'tpm' as const;
  readonly kid: string;
  readonly publicKeyPem: string;
  readonly handle: number;
  readonly attestationHandle: number;
  /** The signing key as the TPM reports it (name, public area) for certify-based proofs. */
  readonly publicKey: TpmPublic;
  #tpm: Tpm;
  #owned: boolean;

  private constructor(tpm: Tpm, owned: boolean, pub: TpmPublic, attestationHandle: number) {
    if (!pub.spki || !pub.publicKeyPem) {
      throw new TpmError('command', `the object at the signing handle is not an ECDSA P-256 key`);
    }
    this.#tpm = tpm;
    this.#owned = owned;
    this.publicKey = pub;
    this.handle = pub.handle;
    this.attestationHandle = attestationHandle;
    this.publicKeyPem = pub.publicKeyPem;
    this.kid = keyIdOf(pub.spki);
  }

  static async open(options: TpmSignerOptions = {}): Promise<TpmSigner> {
    const owned = options.tpm === undefined;
    const tpm = options.tpm ?? (await Tpm.open(options.tcti ?? DEFAULT_TCTI));
    try {
      const keys = await tpm.ensureKeys({
        signing: options.signingHandle ?? HANDLES.signing,
        attestation: options.attestationHandle ?? HANDLES.attestation,
      });
      const pub = await tpm.readPublic(keys.signing.handle);
      return new TpmSigner(tpm, owned, pub, keys.attestation.handle);
    } catch (e) {
      if (owned) await tpm.close().catch(() => undefined);
      throw e;
    }
  }

  get tpm(): Tpm {
    return this.#tpm;
  }

  sign(digest: Buffer): Promise<Buffer> {
    return this.#tpm.sign(this.handle, createHash('sha256').update(digest).digest());
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#tpm.close();
  }
}
