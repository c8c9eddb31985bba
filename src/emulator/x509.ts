// X.509 client authentication as IoT Hub does it: a self-signed device is known by the SHA-1 or
// SHA-256 thumbprint of its certificate; a CA-signed device by a chain up to a registered CA and
// a subject CN equal to its id. TLS has already proven the device holds the certificate's key.
import crypto from 'node:crypto';
import type tls from 'node:tls';
import { EmulatorError } from './errors.js';

export interface X509Auth {
  type: 'selfSigned' | 'certificateAuthority';
  /** Uppercase hex SHA-1 (40 digits) or SHA-256 (64) thumbprints; any one matching is enough. */
  thumbprints: string[];
}

/** `ab:cd:…` or `abcd…` → `ABCD…`; throws BadRequest unless it is a SHA-1 or SHA-256 thumbprint. */
export function normalizeThumbprint(value: unknown): string {
  const hex = typeof value === 'string' ? value.replace(/:/g, '').toUpperCase() : '';
  if (!/^([0-9A-F]{40}|[0-9A-F]{64})$/.test(hex)) {
    throw new EmulatorError('BadRequest', `Expected a SHA-1 (40 hex digits) or SHA-256 (64) certificate thumbprint but received ${JSON.stringify(value)}`);
  }
  return hex;
}

/** Both thumbprints of a certificate, as IoT Hub shows them. */
export function thumbprints(cert: crypto.X509Certificate): { sha1: string; sha256: string } {
  return { sha1: normalizeThumbprint(cert.fingerprint), sha256: normalizeThumbprint(cert.fingerprint256) };
}

/** Parses a PEM that must be a CA certificate; throws BadRequest otherwise. */
export function caCertificate(pem: unknown): crypto.X509Certificate {
  let cert: crypto.X509Certificate;
  try {
    cert = new crypto.X509Certificate(String(pem));
  } catch (err) {
    throw new EmulatorError('BadRequest', 'Expected a PEM certificate for the CA but it does not parse', { cause: err });
  }
  if (!cert.ca)
    throw new EmulatorError('BadRequest', `Expected a CA certificate (basicConstraints CA:TRUE) but ${cert.subject.replace(/\n/g, ', ')} is not one`);
  return cert;
}

/** The certificates a client presented, leaf first; empty when it sent none. */
export function peerChain(socket: tls.TLSSocket): crypto.X509Certificate[] {
  const chain: crypto.X509Certificate[] = [];
  let cur: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  // the issuer links end at a certificate that points to itself
  while (cur?.raw && !seen.has(cur.fingerprint256) && chain.length < 8) {
    seen.add(cur.fingerprint256);
    chain.push(new crypto.X509Certificate(cur.raw));
    cur = cur.issuerCertificate;
  }
  return chain;
}

function commonName(cert: crypto.X509Certificate): string | null {
  for (const line of cert.subject.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return null;
}

function current(cert: crypto.X509Certificate, now: number): boolean {
  return Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
}

function issued(child: crypto.X509Certificate, issuer: crypto.X509Certificate): boolean {
  return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

/**
 * Why a presented chain does not authenticate `deviceId`, or null when it does.
 * `cas` are the registered CA certificates (only read for CA-signed devices).
 */
export function refusal(chain: crypto.X509Certificate[], auth: X509Auth, deviceId: string, cas: () => crypto.X509Certificate[]): string | null {
  const leaf = chain[0];
  if (!leaf) return `device ${deviceId} uses X.509 and presented no client certificate`;
  const now = Date.now();
  if (!current(leaf, now)) return `the certificate of ${deviceId} is not valid now (${leaf.validFrom} to ${leaf.validTo})`;
  if (auth.type === 'selfSigned') {
    const t = thumbprints(leaf);
    if (auth.thumbprints.includes(t.sha1) || auth.thumbprints.includes(t.sha256)) return null;
    return `certificate thumbprint ${t.sha1} is not the one registered for ${deviceId}`;
  }
  if (commonName(leaf) !== deviceId) return `certificate CN ${JSON.stringify(commonName(leaf))} is not the device id ${deviceId}`;
  const roots = cas();
  // walk up through the intermediates the device sent until a registered CA signed one of them
  let child = leaf;
  for (let depth = 0; depth < chain.length; depth++) {
    if (roots.some((ca) => current(ca, now) && issued(child, ca))) return null;
    const parent = chain.find((c) => c !== child && c.ca && current(c, now) && issued(child, c));
    if (!parent) break;
    child = parent;
  }
  return `no registered CA issued the certificate chain of ${deviceId}`;
}
