// CONNECT authentication, the same for MQTT over TLS and over WebSockets: the client id and
// username name the identity; a SAS identity proves itself with a token in the password, an
// X.509 device with the client certificate of its TLS connection and no password.
import type crypto from 'node:crypto';
import { afterHost, parseSas, resourceMatches, signatureMatches } from './sas.js';
import type { Credential } from './registry.js';
import { identityKey, type Identity } from './types.js';
import { refusal } from './x509.js';

export interface ConnectRequest {
  clientId: string;
  username: string | undefined;
  password: Buffer | undefined;
  /** The certificates the client presented in the TLS handshake, leaf first (read on demand). */
  peer: () => crypto.X509Certificate[];
}

export interface AuthContext {
  /** Host names a token's `sr` and the username may carry (each with any port, or none). */
  hostNames: string[];
  /** Throws when the registry cannot be read (answered as CONNACK 3). */
  credentialOf(id: Identity): Credential | null;
  certificateAuthorities(): crypto.X509Certificate[];
}

export type AuthResult =
  | { ok: true; id: Identity; key: string; auth: 'sas' | 'x509'; /** ms since the epoch; Infinity for X.509 */ expiresAt: number }
  | { ok: false; returnCode: 3 | 4 | 5; reason: string };

const refuse = (returnCode: 3 | 4 | 5, reason: string): AuthResult => ({ ok: false, returnCode, reason });

export function authenticate(req: ConnectRequest, ctx: AuthContext): AuthResult {
  const parts = req.clientId.split('/');
  if (parts.length > 2 || parts.some((p) => p === '')) return refuse(4, `client id ${req.clientId} is not deviceId or deviceId/moduleId`);
  const [deviceId = '', moduleId = null] = parts; // split gives at least one part
  const id: Identity = { deviceId, moduleId };
  const key = identityKey(id);
  // IoT Hub's username: {host}/{deviceId}[/{moduleId}]/?api-version=…
  const user = req.username ?? '';
  const rest = afterHost(user, ctx.hostNames);
  const prefix = `/${key}/`;
  const userOk =
    rest !== null && rest.toLowerCase().startsWith(prefix.toLowerCase()) && rest.slice(prefix.length).startsWith('?') && /[?&]api-version=/.test(rest);
  if (!userOk) return refuse(4, `username ${JSON.stringify(user)} is not {host}/${key}/?api-version=…`);
  const sas = req.password ? parseSas(req.password.toString('utf8')) : null;
  if (req.password && !sas) return refuse(4, 'password is not a SharedAccessSignature token');
  let cred: Credential | null;
  try {
    cred = ctx.credentialOf(id);
  } catch (err) {
    return refuse(3, (err as Error).message);
  }
  if (cred === null) return refuse(5, `identity ${key} is not registered`);
  if (cred.kind === 'x509') {
    // IoT Hub takes the certificate when there is no password; a token cannot stand in for it
    if (sas) return refuse(5, `identity ${key} uses X.509: connect with its certificate and no password`);
    let why: string | null;
    try {
      why = refusal(req.peer(), cred.x509, id.deviceId, () => ctx.certificateAuthorities());
    } catch (err) {
      why = `the client certificate cannot be read: ${(err as Error).message}`;
    }
    return why === null ? { ok: true, id, key, auth: 'x509', expiresAt: Infinity } : refuse(5, why);
  }
  if (!sas) return refuse(5, `identity ${key} uses a symmetric key: the password must be a SAS token`);
  if (!resourceMatches(sas, ctx.hostNames, id)) return refuse(5, `token resource ${sas.sr} does not name ${key} on this hub`);
  if (!signatureMatches(sas, cred.key)) return refuse(5, `token signature for ${key} does not match its key`);
  const expiresAt = sas.se * 1000;
  if (expiresAt <= Date.now()) return refuse(5, `token for ${key} expired at ${new Date(expiresAt).toISOString()}`);
  return { ok: true, id, key, auth: 'sas', expiresAt };
}
