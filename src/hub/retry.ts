// How long the link waits before its next connection attempt, decided from structured facts
// about the failure (socket and TLS error codes, the MQTT CONNACK return code, our own connect
// deadline), never from error names or messages. Backoff is exponential with full jitter.

import type { TransportFact } from './sdk.js';
import type { ErrorCode } from '../errors.js';

/** network: try again soon; busy: the hub asks for less; auth, tls, rejected: needs a fix, retry slowly. */
export type FailureKind = 'network' | 'timeout' | 'busy' | 'auth' | 'tls' | 'rejected' | 'unknown';

const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EADDRNOTAVAIL',
]);
// Node's TLS verification codes (OpenSSL's X509_V_ERR names) and its own ERR_TLS_* / ERR_SSL_*.
const TLS = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH)/;

export function classify(fact: TransportFact | null, timedOut = false): FailureKind {
  if (timedOut) return 'timeout';
  if (fact?.connack !== undefined) {
    // MQTT 3.1.1 CONNACK: 1 protocol version, 2 client id, 3 server unavailable, 4 bad user/password, 5 not authorized
    if (fact.connack === 3) return 'busy';
    if (fact.connack === 4 || fact.connack === 5) return 'auth';
    return 'rejected';
  }
  if (fact?.errno) {
    if (NETWORK.has(fact.errno)) return 'network';
    if (TLS.test(fact.errno)) return 'tls';
  }
  return 'unknown';
}

/** Extra doublings per kind: a busy hub and credentials that need a fix are not hammered. */
const EXTRA: Record<FailureKind, number> = { network: 0, timeout: 0, unknown: 0, busy: 3, auth: 6, tls: 6, rejected: 6 };

/**
 * Full jitter: uniform in [0, min(hi, lo * 2^(attempt + extra))). `attempt` counts the failures
 * in a row from 0, so a fleet that lost its hub together does not return together.
 */
export function backoffMs(kind: FailureKind, attempt: number, [lo, hi]: readonly [number, number], random: () => number = Math.random): number {
  const ceiling = Math.min(hi, lo * 2 ** Math.min(attempt + EXTRA[kind], 30));
  return random() * ceiling;
}

/** Kinds whose failure a user must act on (logged as errors, not warnings). */
export function needsAttention(kind: FailureKind): boolean {
  return kind === 'auth' || kind === 'tls' || kind === 'rejected';
}

// OpenSSL's verdicts for a chain that does not lead to a CA we trust (as opposed to a trusted
// certificate that is expired or names another host).
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
]);

/** What a failure means for the user and what to do next, decided from its code; null when the SDK's words must do. */
export function explainFailure(fact: TransportFact | null): { code: ErrorCode; message: string } | null {
  if (fact?.errno && UNTRUSTED.has(fact.errno)) {
    return {
      code: 'ERR_HUB_UNTRUSTED',
      message: "the hub's certificate is not trusted: pass --ca with the CA that signed it (for the local emulator: --ca <its state folder>/ca.pem)",
    };
  }
  return null;
}
