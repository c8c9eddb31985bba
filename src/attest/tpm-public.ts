// Parser of TPMT_PUBLIC (TPM 2.0 Part 2, 12.2.4) for ECC keys, so a verifier can tie a PEM
// public key to the TPM object a certification names: the name is nameAlg || H(publicArea),
// and the public area holds the key's point and its attributes (fixedTPM, restricted, ...).
import { createHash, type KeyObject } from 'node:crypto';

export const TPMA = {
  fixedTPM: 0x2,
  fixedParent: 0x10,
  sensitiveDataOrigin: 0x20,
  restricted: 0x10000,
  decrypt: 0x20000,
  sign: 0x40000,
} as const;

const ALG_ECC = 0x0023;
const ALG_SHA256 = 0x000b;
const ALG_NULL = 0x0010;
const ALG_ECDAA = 0x001a;
const ECC_NIST_P256 = 0x0003;

export interface EccPublic {
  nameAlg: number;
  attributes: number;
  curve: number;
  x: Buffer;
  y: Buffer;
}

/** Parses an ECC TPMT_PUBLIC; throws RangeError on anything else or on malformed bytes. */
export function parseEccPublic(area: Buffer): EccPublic {
  let off = 0;
  const need = (n: number): void => {
    if (off + n > area.length) throw new RangeError(`TPMT_PUBLIC truncated at byte ${off}`);
  };
  const u16 = (): number => {
    need(2);
    off += 2;
    return area.readUInt16BE(off - 2);
  };
  const u32 = (): number => {
    need(4);
    off += 4;
    return area.readUInt32BE(off - 4);
  };
  const sized = (): Buffer => {
    const n = u16();
    need(n);
    off += n;
    return area.subarray(off - n, off);
  };
  const type = u16();
  if (type !== ALG_ECC) throw new RangeError(`TPMT_PUBLIC of type 0x${type.toString(16)}, expected ECC`);
  const nameAlg = u16();
  const attributes = u32();
  sized(); // authPolicy
  // TPMS_ECC_PARMS: symmetric, scheme, curveID, kdf.
  if (u16() !== ALG_NULL) u32(); // keyBits + mode
  const scheme = u16();
  if (scheme !== ALG_NULL) {
    u16(); // hashAlg
    if (scheme === ALG_ECDAA) u16(); // count
  }
  const curve = u16();
  if (u16() !== ALG_NULL) u16(); // kdf hashAlg
  const x = Buffer.from(sized());
  const y = Buffer.from(sized());
  if (off !== area.length) throw new RangeError(`${area.length - off} trailing bytes after TPMT_PUBLIC`);
  return { nameAlg, attributes, curve, x, y };
}

/** The TPM name of an object with this public area (SHA-256 name algorithm only). */
export function tpmName(area: Buffer): Buffer {
  const nameAlg = area.readUInt16BE(2);
  if (nameAlg !== ALG_SHA256) throw new RangeError(`name algorithm 0x${nameAlg.toString(16)} is not SHA-256`);
  const alg = Buffer.alloc(2);
  alg.writeUInt16BE(nameAlg);
  return Buffer.concat([alg, createHash('sha256').update(area).digest()]);
}

/** True when the public area holds exactly this P-256 public key. */
export function samePoint(pub: EccPublic, key: KeyObject): boolean {
  if (pub.curve !== ECC_NIST_P256 || key.asymmetricKeyType !== 'ec') return false;
  const jwk = key.export({ format: 'jwk' });
  const pad = (b: Buffer): Buffer => Buffer.concat([Buffer.alloc(Math.max(0, 32 - b.length)), b]);
  return pad(pub.x).equals(Buffer.from(jwk.x ?? '', 'base64url')) && pad(pub.y).equals(Buffer.from(jwk.y ?? '', 'base64url'));
}
