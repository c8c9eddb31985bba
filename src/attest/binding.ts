// The contract of the native addon native/tpm2 (tpm2.node), declared once. Only tpm.ts
// loads the addon and calls these methods; everything else uses the typed Tpm wrapper.
//
// Every method of NativeContext is asynchronous: its TPM work runs on a libuv worker
// thread, one operation at a time per context, in call order. Malformed arguments throw a
// TypeError synchronously. TSS/TPM failures reject with a NativeTpmError. Calls on a
// context that is not open, or after close(), reject with a NativeTpmError whose rc is 0.

/** TPM2_ALG_ID values of the PCR banks the addon accepts. */
export type NativeBankId = 0x0004 | 0x000b | 0x000c | 0x000d;

export type NativeKeyKind = 'signing' | 'attestation';

/** A TPMT_SIGNATURE of scheme ECDSA: r and s as the TPM returned them (big-endian). */
export interface NativeEcdsaSignature {
  alg: number;
  hash: number;
  r: Buffer;
  s: Buffer;
}

export interface NativePublic {
  /** TPMI_ALG_PUBLIC: 0x0023 ECC, 0x0008 keyed hash, 0x0001 RSA. */
  type: number;
  /** TPMA_OBJECT bits. */
  attributes: number;
  /** The TPM name: nameAlg (2 bytes) || H(publicArea). */
  name: Buffer;
  /** The marshalled TPMT_PUBLIC. */
  publicArea: Buffer;
  /** SubjectPublicKeyInfo DER for ECC NIST P-256 keys, else null. */
  spki: Buffer | null;
}

export interface NativeAttested {
  /** TPMS_ATTEST bytes exactly as signed (the TPM2B's content, without its size). */
  attest: Buffer;
  signature: NativeEcdsaSignature;
}

export interface NativeIdentity {
  manufacturer: string;
  vendor: string;
  firmware: string;
}

export interface NativeContext {
  /** Loads the TCTI named by `tcti` (e.g. "swtpm:host=127.0.0.1,port=2321"), starts ESYS and
   * reads the TPM's identity. Once per context. */
  open(tcti: string): Promise<NativeIdentity>;
  /** Finishes queued calls, then releases the connection. Idempotent. */
  close(): Promise<void>;
  getRandom(size: number): Promise<Buffer>;
  /** Handles in the range that `first` starts (0x80000000 transient, 0x81000000 persistent,
   * 0x02000000 loaded sessions). */
  listHandles(first: number): Promise<number[]>;
  /** Creates and persists each missing key under a transient SRK; an existing object of the
   * wrong kind is an error, never overwritten. */
  ensureKeys(keys: { handle: number; kind: NativeKeyKind }[]): Promise<{ handle: number; created: boolean }[]>;
  readPublic(handle: number): Promise<NativePublic>;
  evictPersistent(handle: number): Promise<void>;
  /** ECDSA-SHA256 over `digest` (up to 64 bytes) with a persistent unrestricted key. */
  sign(handle: number, digest: Buffer): Promise<NativeEcdsaSignature>;
  pcrRead(bank: NativeBankId, pcrs: number[]): Promise<{ updateCounter: number; digests: Buffer[] }>;
  quote(akHandle: number, bank: NativeBankId, pcrs: number[], nonce: Buffer): Promise<NativeAttested>;
  certify(objectHandle: number, akHandle: number, nonce: Buffer): Promise<NativeAttested>;
  /** Persists `key` as a keyed-hash (HMAC-SHA256) object at `handle`, replacing any object
   * there; the key travels to the TPM encrypted under a session salted with the SRK. */
  importHmacKey(handle: number, key: Buffer): Promise<void>;
  /** HMAC-SHA256 with the persistent keyed-hash object at `handle`. */
  hmac(handle: number, data: Buffer): Promise<Buffer>;
}

export interface NativeBinding {
  Context: new () => NativeContext;
}

/** What a native rejection carries besides its message. */
export interface NativeTpmError extends Error {
  /** The failing TSS function, or "tpm2"/"open"/"ensureKeys" for the addon's own checks. */
  operation: string;
  /** TSS2_RC, 0 when the failure is the addon's own. */
  rc: number;
  /** Tss2_RC_Decode(rc), empty when rc is 0. */
  rcText: string;
}
