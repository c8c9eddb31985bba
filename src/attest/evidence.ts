// What a TPM-backed device shows a verifier: the enrollment entry of the keys file (signing
// key, attestation key, and the AK's certification of the signing key) and, on request, a
// fresh quote of its PCRs over the caller's nonce. Same shapes for `tpm enroll` and `attest`.
import { createHash } from 'node:crypto';
import { PerceptError } from '../errors.js';
import { keyIdOf } from './signer.js';
import type { TpmSigner } from './tpm-signer.js';
import type { PcrBank } from './handles.js';
import type { DeviceEntry } from './keys.js';
import type { TpmPublic } from './tpm.js';

export interface KeyDescription {
  kid: string;
  publicKeyPem: string;
  /** TPM name (nameAlg || SHA-256 of the public area), hex. */
  name: string;
}

export type Certification = NonNullable<DeviceEntry['certification']>;

export interface AttestEvidence {
  nonce: string;
  bank: PcrBank;
  pcrs: number[];
  /** PCR values (hex) when read, in `pcrs` order; the quote's digest is SHA-256 over them. */
  pcrValues: string[];
  quote: { attest: string; signature: string };
  certification: Certification;
  attestationKey: KeyDescription;
  signingKey: KeyDescription & { attestation: 'tpm' };
}

/** The enrollment nonce: `hex` (8 to 64 bytes, from --nonce) or, by default, one fixed per
 * device, so enrolling twice prints the same entry. */
export function enrollNonce(deviceId: string, hex?: string): Buffer {
  if (hex === undefined) return createHash('sha256').update(`percept enroll ${deviceId}`).digest();
  if (!/^([0-9a-fA-F]{2}){8,64}$/.test(hex)) throw new PerceptError('ERR_USAGE', `nonce: expected 8 to 64 bytes of hex but got '${hex}' (from --nonce)`);
  return Buffer.from(hex, 'hex');
}

function describe(pub: TpmPublic): KeyDescription {
  return { kid: keyIdOf(pub.spki!), publicKeyPem: pub.publicKeyPem!, name: pub.name.toString('hex') };
}

async function certify(signer: TpmSigner, nonce: Buffer): Promise<{ certification: Certification; ak: KeyDescription }> {
  const tpm = signer.tpm;
  const akPub = await tpm.readPublic(signer.attestationHandle);
  const c = await tpm.certify(signer.handle, signer.attestationHandle, nonce);
  return {
    ak: describe(akPub),
    certification: {
      kid: signer.kid,
      nonce: nonce.toString('hex'),
      attest: c.attest.toString('base64'),
      signature: c.signature.toString('base64'),
      publicArea: signer.publicKey.publicArea.toString('base64'),
    },
  };
}

/** The keys-file entry for one device: `{"<deviceId>": enrollmentEntry(...)}`. */
export async function enrollmentEntry(signer: TpmSigner, nonce: Buffer): Promise<DeviceEntry> {
  const { certification, ak } = await certify(signer, nonce);
  return {
    keys: [{ kid: signer.kid, publicKeyPem: signer.publicKeyPem, attestation: 'tpm' }],
    attestationKey: ak,
    certification,
  };
}

/** A quote of `pcrs` over `nonce` and the certification of the signing key, with the same nonce. */
/** Opens the TPM at `tcti`, makes sure its keys exist and returns the device's keys-file entry (`percept tpm enroll`). */
export async function enrollTpm(tcti: string, nonce: Buffer): Promise<DeviceEntry> {
  const { TpmSigner } = await import('./tpm-signer.js');
  const signer = await TpmSigner.open({ tcti });
  try {
    return await enrollmentEntry(signer, nonce);
  } finally {
    await signer.close();
  }
}

export async function attestEvidence(signer: TpmSigner, nonce: Buffer, pcrs: number[], bank: PcrBank): Promise<AttestEvidence> {
  const tpm = signer.tpm;
  const values = await tpm.pcrRead(bank, pcrs);
  const q = await tpm.quote(signer.attestationHandle, values.pcrs, nonce, bank);
  const { certification, ak } = await certify(signer, nonce);
  return {
    nonce: nonce.toString('hex'),
    bank,
    pcrs: values.pcrs,
    pcrValues: values.digests.map((d) => d.toString('hex')),
    quote: { attest: q.attest.toString('base64'), signature: q.signature.toString('base64') },
    certification,
    attestationKey: ak,
    signingKey: { ...describe(signer.publicKey), attestation: 'tpm' },
  };
}
