// The verifier's trust anchors: a keys file `{"<deviceId>[/<moduleId>]": {"keys": [{kid,
// publicKeyPem, attestation}], attestationKey?, certification?}}`, as `percept tpm enroll`
// prints it. A certification (TPM2_Certify by the attestation key) is checked when present.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { z } from 'zod';
import { PerceptError } from '../errors.js';
import { keyIdOf, type Attestation } from './signer.js';
import { TPM_GENERATED, parseAttest } from './tpms-attest.js';
import { TPMA, parseEccPublic, samePoint, tpmName } from './tpm-public.js';

const pem = z.string().includes('BEGIN PUBLIC KEY', { message: 'expected a SubjectPublicKeyInfo PEM (-----BEGIN PUBLIC KEY-----)' });
const kid = z.string().regex(/^[0-9a-f]{16}$/, 'expected 16 lowercase hex digits');
const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'expected base64');

export const keyEntrySchema = z.object({
  kid,
  publicKeyPem: pem,
  attestation: z.enum(['tpm', 'software']),
});

export const deviceEntrySchema = z.object({
  keys: z.array(keyEntrySchema).min(1),
  /** The TPM's restricted attestation key (trusted on first use at enrollment). */
  attestationKey: z
    .object({
      kid,
      publicKeyPem: pem,
      name: z
        .string()
        .regex(/^[0-9a-f]+$/)
        .optional(),
    })
    .optional(),
  /** TPM2_Certify of a signing key by the attestation key. */
  certification: z
    .object({
      kid,
      nonce: z.string().regex(/^([0-9a-f]{2})*$/, 'expected hex'),
      attest: base64,
      signature: base64,
      publicArea: base64,
    })
    .optional(),
});

export const keysFileSchema = z.record(z.string().min(1), deviceEntrySchema);

export type KeyEntry = z.infer<typeof keyEntrySchema>;
export type DeviceEntry = z.infer<typeof deviceEntrySchema>;
export type KeysFile = z.infer<typeof keysFileSchema>;

export interface TrustedKey {
  kid: string;
  key: KeyObject;
  attestation: Attestation;
  /** A TPM certification by the device's attestation key vouches for this key. */
  certified: boolean;
}

/** Keys by stream (`deviceId` or `deviceId/moduleId`), then by kid. */
export class KeyRing {
  readonly #devices = new Map<string, Map<string, TrustedKey>>();

  static fromJson(value: unknown, where = 'the keys file'): KeyRing {
    const r = keysFileSchema.safeParse(value);
    if (!r.success) {
      const i = r.error.issues[0];
      const problem = i === undefined ? 'invalid' : `${i.path.join('.') || '(top)'}: ${i.message}`;
      throw new PerceptError(
        'ERR_INPUT',
        `${where}: ${problem}; expected {"<deviceId>": {"keys": [{"kid", "publicKeyPem", "attestation"}]}} as \`percept tpm enroll\` prints it`,
      );
    }
    const ring = new KeyRing();
    for (const [device, entry] of Object.entries(r.data)) ring.#add(device, entry, where);
    return ring;
  }

  static async load(file: string): Promise<KeyRing> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      throw new PerceptError('ERR_INPUT', `the keys file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new PerceptError('ERR_INPUT', `the keys file ${file} is not JSON: ${(e as Error).message}`);
    }
    return KeyRing.fromJson(json, file);
  }

  /** The keys of a stream: its own entry, else its device's. */
  keysFor(deviceId: string, moduleId: string | null): Map<string, TrustedKey> | undefined {
    return (moduleId ? this.#devices.get(`${deviceId}/${moduleId}`) : undefined) ?? this.#devices.get(deviceId);
  }

  #add(device: string, entry: DeviceEntry, where: string): void {
    const keys = new Map<string, TrustedKey>();
    for (const k of entry.keys) {
      const key = parseKey(k.publicKeyPem, `${where}: ${device}: key ${k.kid}`);
      if (keyIdOf(key.export({ format: 'der', type: 'spki' })) !== k.kid) {
        throw new PerceptError(
          'ERR_INPUT',
          `${where}: ${device}: kid ${k.kid} is not the id of its publicKeyPem (the first 16 hex digits of SHA-256 over the SPKI DER)`,
        );
      }
      keys.set(k.kid, { kid: k.kid, key, attestation: k.attestation, certified: false });
    }
    if (entry.certification) {
      const target = keys.get(entry.certification.kid);
      if (!target)
        throw new PerceptError('ERR_INPUT', `${where}: ${device}: the certification names kid ${entry.certification.kid}, which is not among its keys`);
      checkCertification(entry, target.key, `${where}: ${device}`);
      target.certified = true;
    }
    this.#devices.set(device, keys);
  }
}

function parseKey(text: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch (e) {
    throw new PerceptError('ERR_INPUT', `${where}: publicKeyPem is not a public key (${(e as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new PerceptError('ERR_INPUT', `${where}: expected an ECDSA P-256 public key`);
  }
  return key;
}

/**
 * Checks that the attestation key certified `signingKey`: the TPMS_ATTEST is TPM-generated,
 * signed by the AK, carries the nonce, and names the public area that holds exactly this key
 * as a non-duplicable (fixedTPM, fixedParent) key created inside the TPM.
 */
export function checkCertification(entry: DeviceEntry, signingKey: KeyObject, where: string): void {
  const fail = (why: string): never => {
    throw new PerceptError('ERR_INPUT', `${where}: the certification does not hold: ${why}; enroll the device again with \`percept tpm enroll\``);
  };
  const c = entry.certification!;
  if (!entry.attestationKey) fail('it needs the attestationKey that made it');
  const ak = parseKey(entry.attestationKey!.publicKeyPem, `${where}: attestationKey`);
  if (keyIdOf(ak.export({ format: 'der', type: 'spki' })) !== entry.attestationKey!.kid) fail('attestationKey.kid is not the id of its key');
  const attest = Buffer.from(c.attest, 'base64');
  if (!verify('sha256', attest, ak, Buffer.from(c.signature, 'base64'))) fail('its signature does not verify with the attestation key');
  let parsed;
  try {
    parsed = parseAttest(attest);
  } catch (e) {
    return fail(`the attest structure is malformed (${(e as Error).message})`);
  }
  if (parsed.magic !== TPM_GENERATED || parsed.type !== 'certify') return fail('it is not a TPM-generated certify statement');
  if (!parsed.extraData.equals(Buffer.from(c.nonce, 'hex'))) fail('it carries another nonce');
  const area = Buffer.from(c.publicArea, 'base64');
  let pub;
  try {
    pub = parseEccPublic(area);
    if (!tpmName(area).equals(parsed.name)) fail('it names another object than the given public area');
  } catch (e) {
    if (PerceptError.is(e)) throw e;
    return fail(`the public area is malformed (${(e as Error).message})`);
  }
  if (!samePoint(pub, signingKey)) fail('the certified public area holds another key');
  const must = TPMA.fixedTPM | TPMA.fixedParent | TPMA.sensitiveDataOrigin | TPMA.sign;
  if ((pub.attributes & must) !== must)
    fail('the certified key could have been made or copied outside the TPM (fixedTPM, fixedParent, sensitiveDataOrigin, sign required)');
}
