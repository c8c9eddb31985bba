// The one error type of the TPM layer: a PerceptError with code ERR_TPM and a `reason` that
// callers branch on (retry after 'busy', re-provision after 'not-found', fall back to the
// software signer after 'unavailable'), plus the TSS2 return code when there is one.
import { PerceptError } from '../errors.js';

export type TpmFailure =
  /** The native addon is missing or cannot load (no libtss2, not built). */
  | 'unavailable'
  /** The TCTI could not reach a TPM (bad --tcti string, no device, swtpm not running). */
  | 'connect'
  /** The TPM or the TSS refused an operation; `rc` says why. */
  | 'command'
  /** No object at the persistent handle used. */
  | 'not-found'
  /** The Tpm was closed (or never opened). */
  | 'closed'
  /** An argument is malformed; nothing was sent to the TPM. */
  | 'argument'
  /** Too many operations queued on this context. */
  | 'busy';

export interface TpmErrorDetails {
  rc?: number;
  rcText?: string;
  operation?: string;
  cause?: unknown;
}

export class TpmError extends PerceptError {
  readonly reason: TpmFailure;
  /** TSS2_RC of the failing call (0 or undefined when the failure is not the TPM's). */
  readonly rc: number | undefined;
  readonly rcText: string | undefined;
  readonly operation: string | undefined;

  constructor(reason: TpmFailure, message: string, details: TpmErrorDetails = {}) {
    super('ERR_TPM', message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TpmError';
    this.reason = reason;
    this.rc = details.rc;
    this.rcText = details.rcText;
    this.operation = details.operation;
  }
}
