// Where this project keeps its TPM objects. Persistent handles 0x81000A00-0x81000AFF are
// ours; the SDK's and the TCG's well-known handles (EK 0x81010001, SRK 0x81000001, ...) are
// never created, replaced or evicted by percept.

export const HANDLES = {
  /** ECDSA P-256 telemetry signing key (unrestricted). */
  signing: 0x81000a01,
  /** ECDSA P-256 attestation key (restricted): quotes and certifies the signing key. */
  attestation: 0x81000a02,
  /** HMAC-SHA256 key: the IoT Hub SAS key, so SAS tokens are signed inside the TPM. */
  hmac: 0x81000a03,
} as const;

export const PROJECT_FIRST = 0x81000a00;
export const PROJECT_LAST = 0x81000aff;

export const PERSISTENT_FIRST = 0x81000000;
export const PERSISTENT_LAST = 0x81ffffff;
export const TRANSIENT_FIRST = 0x80000000;
export const LOADED_SESSION_FIRST = 0x02000000;

export function isProjectHandle(handle: number): boolean {
  return Number.isInteger(handle) && handle >= PROJECT_FIRST && handle <= PROJECT_LAST;
}

export function hex(handle: number): string {
  return `0x${handle.toString(16).padStart(8, '0')}`;
}

/** TPM2_ALG_ID of each PCR bank. */
export const BANKS = { sha1: 0x0004, sha256: 0x000b, sha384: 0x000c, sha512: 0x000d } as const;
export type PcrBank = keyof typeof BANKS;
