// ECDSA signature encodings: the TPM returns (r, s) as big-endian integers, node:crypto and
// most verifiers take ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }`.

function derInteger(value: Buffer): Buffer {
  let i = 0;
  while (i < value.length - 1 && value[i] === 0) i++;
  let v = value.subarray(i);
  // A set top bit would read as negative: DER prefixes a zero byte.
  if (v.length === 0) v = Buffer.from([0]);
  if ((v[0] ?? 0) & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return Buffer.concat([Buffer.from([0x02, v.length]), v]);
}

/** DER encoding of an ECDSA signature (curves up to P-384, so lengths fit in one byte). */
export function ecdsaDer(r: Buffer, s: Buffer): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  if (body.length > 127) throw new RangeError('ECDSA signature too long for short-form DER');
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** IEEE P1363 (r || s, each left-padded to `size` bytes), as WebCrypto produces. */
export function ecdsaP1363(r: Buffer, s: Buffer, size = 32): Buffer {
  const pad = (v: Buffer): Buffer => {
    let i = 0;
    while (i < v.length - size && v[i] === 0) i++;
    const t = v.subarray(i);
    if (t.length > size) throw new RangeError('ECDSA integer longer than the curve size');
    return Buffer.concat([Buffer.alloc(size - t.length), t]);
  };
  return Buffer.concat([pad(r), pad(s)]);
}
