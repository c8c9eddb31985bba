// The Signer interface the telemetry chain signs checkpoints with, whatever holds the key
// (the TPM or a software key file), and the verification every consumer can repeat.
import { createHash, verify, type KeyLike } from 'node:crypto';

export type Attestation = 'tpm' | 'software';

export interface Signer {
  /** Key id: the first 16 hex digits of SHA-256 over the public key's SPKI DER. */
  readonly kid: string;
  /** SubjectPublicKeyInfo PEM of the ECDSA P-256 public key. */
  readonly publicKeyPem: string;
  readonly attestation: Attestation;
  /** ECDSA P-256 with SHA-256 over `digest` (the chain digest, any bytes), DER-encoded:
   * check with verifyDigestSignature(publicKeyPem, digest, signature). */
  sign(digest: Buffer): Promise<Buffer>;
  /** Releases the key holder (TPM connection); the signer is unusable afterwards. */
  close(): Promise<void>;
}

export function keyIdOf(spkiDer: Buffer): string {
  return createHash('sha256').update(spkiDer).digest('hex').slice(0, 16);
}

export function verifyDigestSignature(publicKey: KeyLike, digest: Buffer, signature: Buffer): boolean {
  return verify('sha256', digest, publicKey, signature);
}
