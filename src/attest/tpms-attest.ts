// Parser of TPMS_ATTEST (TPM 2.0 Part 2, 10.12), the structure quote and certify sign, so a
// verifier can check the nonce, the signer, the PCR digest or the certified name it holds.

export interface AttestBase {
  /** TPM_GENERATED_VALUE 0xff544347 on everything the TPM itself produced. */
  magic: number;
  qualifiedSigner: Buffer;
  /** The caller's nonce (qualifyingData). */
  extraData: Buffer;
  clock: bigint;
  resetCount: number;
  restartCount: number;
  safe: boolean;
  firmwareVersion: bigint;
}

export interface QuoteAttest extends AttestBase {
  type: 'quote';
  pcrSelect: { hash: number; pcrs: number[] }[];
  pcrDigest: Buffer;
}

export interface CertifyAttest extends AttestBase {
  type: 'certify';
  name: Buffer;
  qualifiedName: Buffer;
}

export type Attest = QuoteAttest | CertifyAttest;

export const TPM_GENERATED = 0xff544347;
const ST_ATTEST_CERTIFY = 0x8017;
const ST_ATTEST_QUOTE = 0x8018;

class Reader {
  #buf: Buffer;
  #off = 0;
  constructor(buf: Buffer) {
    this.#buf = buf;
  }
  #need(n: number): void {
    if (this.#off + n > this.#buf.length) throw new RangeError(`TPMS_ATTEST truncated at byte ${this.#off}`);
  }
  u8(): number {
    this.#need(1);
    return this.#buf.readUInt8(this.#off++);
  }
  u16(): number {
    this.#need(2);
    const v = this.#buf.readUInt16BE(this.#off);
    this.#off += 2;
    return v;
  }
  u32(): number {
    this.#need(4);
    const v = this.#buf.readUInt32BE(this.#off);
    this.#off += 4;
    return v;
  }
  u64(): bigint {
    this.#need(8);
    const v = this.#buf.readBigUInt64BE(this.#off);
    this.#off += 8;
    return v;
  }
  bytes(n: number): Buffer {
    this.#need(n);
    const v = this.#buf.subarray(this.#off, this.#off + n);
    this.#off += n;
    return Buffer.from(v);
  }
  sized(): Buffer {
    return this.bytes(this.u16());
  }
  end(): void {
    if (this.#off !== this.#buf.length) throw new RangeError(`${this.#buf.length - this.#off} trailing bytes after TPMS_ATTEST`);
  }
}

export function parseAttest(buf: Buffer): Attest {
  const r = new Reader(buf);
  const magic = r.u32();
  const type = r.u16();
  const base = {
    magic,
    qualifiedSigner: r.sized(),
    extraData: r.sized(),
    clock: r.u64(),
    resetCount: r.u32(),
    restartCount: r.u32(),
    safe: r.u8() !== 0,
    firmwareVersion: r.u64(),
  };
  if (type === ST_ATTEST_QUOTE) {
    const pcrSelect: QuoteAttest['pcrSelect'] = [];
    for (let n = r.u32(); n > 0; n--) {
      const hash = r.u16();
      const bits = r.bytes(r.u8());
      const pcrs: number[] = [];
      bits.forEach((byte, i) => {
        for (let b = 0; b < 8; b++) if (byte & (1 << b)) pcrs.push(i * 8 + b);
      });
      pcrSelect.push({ hash, pcrs });
    }
    const pcrDigest = r.sized();
    r.end();
    return { ...base, type: 'quote', pcrSelect, pcrDigest };
  }
  if (type === ST_ATTEST_CERTIFY) {
    const name = r.sized();
    const qualifiedName = r.sized();
    r.end();
    return { ...base, type: 'certify', name, qualifiedName };
  }
  throw new RangeError(`unsupported TPMS_ATTEST type 0x${type.toString(16)}`);
}
