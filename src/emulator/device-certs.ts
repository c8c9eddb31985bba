// Device certificates for X.509 authentication: a self-signed certificate and key written to
// `<state>/devices/<id>.cert.pem` / `.key.pem` for `hub device add --x509`, and CA or CA-issued
// certificates for tests of CA-signed devices. node-forge signs; node:crypto makes the keys.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';
import { rsaKeyPair, serial } from './certs.js';
import { EmulatorError } from './errors.js';
import { thumbprints } from './x509.js';

export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

export interface DeviceCertificateFiles {
  certPath: string;
  keyPath: string;
  thumbprints: { sha1: string; sha256: string };
}

const DAYS = 365 * 5;

/**
 * A certificate for `commonName`: self-signed unless `issuer` is given; a CA certificate with
 * `ca: true`, else a TLS client certificate. `days` may be negative to make an expired one.
 */
export function makeCertificate(commonName: string, opts: { issuer?: CertificateAndKey; ca?: boolean; days?: number } = {}): CertificateAndKey {
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  const days = opts.days ?? DAYS;
  const start = Date.now() - 60_000;
  cert.validity.notBefore = new Date(days < 0 ? start + days * 2 * 86_400_000 : start);
  cert.validity.notAfter = new Date(start + days * 86_400_000);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  const issuerCert = opts.issuer ? forge.pki.certificateFromPem(opts.issuer.certPem) : null;
  cert.setIssuer(issuerCert ? issuerCert.subject.attributes : subject);
  cert.setExtensions(
    opts.ca
      ? [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
          { name: 'subjectKeyIdentifier' },
        ]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', clientAuth: true },
          { name: 'subjectKeyIdentifier' },
        ],
  );
  const signer = opts.issuer ? forge.pki.privateKeyFromPem(opts.issuer.keyPem) : keys.privateKey;
  cert.sign(signer, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.pem };
}

export function deviceCertificatePaths(stateDir: string, deviceId: string): { certPath: string; keyPath: string } {
  const dir = path.join(stateDir, 'devices');
  return { certPath: path.join(dir, `${deviceId}.cert.pem`), keyPath: path.join(dir, `${deviceId}.key.pem`) };
}

/**
 * The device's self-signed certificate files: the existing pair when both are there and readable
 * (so adding a device twice gives the same identity), else a new pair (key mode 0600).
 * `register` records the thumbprints; when it throws, files made by this call are removed.
 */
export function ensureDeviceCertificate(stateDir: string, deviceId: string, register: (t: { sha1: string; sha256: string }) => void): DeviceCertificateFiles {
  const { certPath, keyPath } = deviceCertificatePaths(stateDir, deviceId);
  try {
    const cert = new crypto.X509Certificate(fs.readFileSync(certPath));
    crypto.createPrivateKey(fs.readFileSync(keyPath));
    const t = thumbprints(cert);
    register(t);
    return { certPath, keyPath, thumbprints: t };
  } catch (err) {
    if (EmulatorError.is(err)) throw err;
    // missing or unreadable: make a fresh pair below
  }
  const made = makeCertificate(deviceId);
  const t = thumbprints(new crypto.X509Certificate(made.certPem));
  try {
    fs.mkdirSync(path.dirname(certPath), { recursive: true, mode: 0o700 });
    fs.rmSync(keyPath, { force: true }); // writeFileSync's mode applies only to a new file
    fs.writeFileSync(keyPath, made.keyPem, { mode: 0o600 });
    fs.writeFileSync(certPath, made.certPem);
  } catch (err) {
    throw new EmulatorError('StateInvalid', `Cannot write the device certificate in ${path.dirname(certPath)}: check that the folder is writable`, {
      cause: err,
    });
  }
  try {
    register(t);
  } catch (err) {
    fs.rmSync(certPath, { force: true });
    fs.rmSync(keyPath, { force: true });
    throw err;
  }
  return { certPath, keyPath, thumbprints: t };
}
