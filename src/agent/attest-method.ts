// The `attest` direct method: a fresh TPM quote of the PCRs over the caller's nonce, and the
// attestation key's certification of the signing key, so a service can check what booted and
// that checkpoints are signed inside this TPM. With a software key there is nothing to quote.
import { z } from 'zod';
import type { Signer } from '../attest/signer.js';
import type { TpmSigner } from '../attest/tpm-signer.js';
import { attestEvidence } from '../attest/evidence.js';
import { BANKS, type PcrBank } from '../attest/handles.js';
import type { MethodResult } from '../hub/link.js';

const payloadSchema = z.strictObject({
  nonce: z.string().min(1),
  pcrs: z.array(z.number().int().min(0).max(23)).min(1).max(24).optional(),
  bank: z.enum(Object.keys(BANKS) as [PcrBank, ...PcrBank[]]).optional(),
});

const USAGE = 'expected {"nonce": "<8-64 bytes as hex or base64>", "pcrs"?: [0..23, ...], "bank"?: "sha256"}';

/** Hex when the text is even-length hex, else base64: both are accepted for the nonce. */
export function decodeNonce(text: string): Buffer | null {
  if (/^([0-9a-fA-F]{2})+$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0) return Buffer.from(text, 'base64');
  return null;
}

function bad(message: string): MethodResult {
  return { status: 400, payload: { error: { code: 'ERR_USAGE', message } } };
}

export async function attestMethod(signer: Signer | null, payload: unknown): Promise<MethodResult> {
  const r = payloadSchema.safeParse(payload);
  if (!r.success) return bad(USAGE);
  const nonce = decodeNonce(r.data.nonce);
  if (!nonce || nonce.length < 8 || nonce.length > 64)
    return bad(`${USAGE}; the nonce decodes to ${nonce ? `${nonce.length} bytes` : 'neither hex nor base64'}`);
  if (signer?.attestation !== 'tpm') {
    const how = signer ? 'checkpoints are signed with the software key' : 'checkpoints are not signed (--signer none)';
    return {
      status: 409,
      payload: { error: { code: 'ERR_NO_TPM', message: `no TPM quote is possible: ${how}; run the agent with --signer tpm (and --tcti) to attest` } },
    };
  }
  const evidence = await attestEvidence(signer as TpmSigner, nonce, r.data.pcrs ?? [0, 1, 2, 3, 4, 5, 6, 7], r.data.bank ?? 'sha256');
  return { status: 200, payload: evidence };
}
