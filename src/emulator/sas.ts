// Shared access signatures as IoT Hub reads them: `SharedAccessSignature sr=…&sig=…&se=…`,
// sig = base64(HMAC-SHA256(base64-decoded key, "<sr as sent>\n<se>")). Parse, verify, create.
import crypto from 'node:crypto';
import type { Identity } from './types.js';

export interface ParsedSas {
  /** Resource URI exactly as sent (URL-encoded); the signature covers this form. */
  sr: string;
  /** Decoded base64 signature. */
  sig: string;
  /** Expiry, seconds since the epoch. */
  se: number;
  skn: string | null;
}

/** Parses a token; null when it is not one. */
export function parseSas(token: string): ParsedSas | null {
  const prefix = 'SharedAccessSignature ';
  if (!token.startsWith(prefix)) return null;
  const fields = new Map<string, string>();
  for (const part of token.slice(prefix.length).split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const sr = fields.get('sr');
  const sigEncoded = fields.get('sig');
  const seText = fields.get('se');
  if (!sr || !sigEncoded || !seText || !/^\d+$/.test(seText)) return null;
  let sig: string;
  try {
    sig = decodeURIComponent(sigEncoded);
  } catch {
    return null;
  }
  return { sr, sig, se: Number(seText), skn: fields.get('skn') ?? null };
}

/** base64 HMAC-SHA256 of `data` with a base64 key: what iotedged's sign API and the SDK compute. */
export function hmacBase64(keyBase64: string, data: string | Buffer): string {
  return crypto.createHmac('sha256', Buffer.from(keyBase64, 'base64')).update(data).digest('base64');
}

/** True when the signature was made with `keyBase64`. */
export function signatureMatches(sas: ParsedSas, keyBase64: string): boolean {
  const expected = Buffer.from(hmacBase64(keyBase64, `${sas.sr}\n${sas.se}`), 'base64');
  const got = Buffer.from(sas.sig, 'base64');
  return got.length === expected.length && crypto.timingSafeEqual(got, expected);
}

/**
 * What follows the hub's host name at the start of `s` (any case, with or without a port: the SDK
 * signs the host as the connection string writes it, and a port mapping or proxy may change the
 * port), or null when `s` does not start with one of `hostNames`.
 */
export function afterHost(s: string, hostNames: readonly string[]): string | null {
  const lower = s.toLowerCase();
  for (const h of hostNames) {
    if (!lower.startsWith(h.toLowerCase())) continue;
    const rest = s.slice(h.length);
    const port = /^:\d{1,5}/.exec(rest);
    return port ? rest.slice(port[0].length) : rest;
  }
  return null;
}

/**
 * True when the token's resource names this identity on this hub, with the host written with any
 * port or none (see afterHost); comparison is case-insensitive as in IoT Hub.
 */
export function resourceMatches(sas: ParsedSas, hostNames: readonly string[], id: Identity): boolean {
  let resource: string;
  try {
    resource = decodeURIComponent(sas.sr).replace(/\/+$/, '');
  } catch {
    return false;
  }
  const suffix = `/devices/${id.deviceId}` + (id.moduleId === null ? '' : `/modules/${id.moduleId}`);
  return afterHost(resource, hostNames)?.toLowerCase() === suffix.toLowerCase();
}

/** Makes a device or module token, as the SDK does (used by tests and tools). */
export function createSas(host: string, id: Identity, keyBase64: string, expirySeconds: number): string {
  const resource = `${host}/devices/${id.deviceId}` + (id.moduleId === null ? '' : `/modules/${id.moduleId}`);
  const sr = encodeURIComponent(resource);
  const sig = encodeURIComponent(hmacBase64(keyBase64, `${sr}\n${expirySeconds}`));
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${expirySeconds}`;
}
