// The emulator's TLS identity: a private CA and a server certificate for localhost, made on the
// first start in the state folder and reused afterwards, so devices can pin `ca.pem` once.
// Keys come from node:crypto (native, fast); node-forge builds and signs the certificates.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';
import { EmulatorError } from './errors.js';

export interface TlsMaterial {
  caPath: string;
  caPem: string;
  keyPem: string;
  certPem: string;
}

const FILES = { ca: 'ca.pem', caKey: 'ca-key.pem', key: 'server-key.pem', cert: 'server-cert.pem' } as const;
const YEARS = 10;

/** Loads the CA and server certificate from `stateDir`, creating them when missing or expired. */
export function ensureCerts(stateDir: string): TlsMaterial {
  const p = (name: string) => path.join(stateDir, name);
  const caPath = p(FILES.ca);
  if ([FILES.ca, FILES.caKey, FILES.key, FILES.cert].every((f) => fs.existsSync(p(f)))) {
    try {
      const caPem = fs.readFileSync(caPath, 'utf8');
      const certPem = fs.readFileSync(p(FILES.cert), 'utf8');
      const keyPem = fs.readFileSync(p(FILES.key), 'utf8');
      const cert = new crypto.X509Certificate(certPem);
      const ca = new crypto.X509Certificate(caPem);
      if (new Date(cert.validTo).getTime() > Date.now() + 86_400_000 && cert.verify(ca.publicKey)) {
        return { caPath, caPem, keyPem, certPem };
      }
    } catch {
      // unreadable or corrupt: fall through and make a fresh set
    }
  }
  try {
    const made = generate();
    writePrivate(p(FILES.caKey), made.caKeyPem);
    writePrivate(p(FILES.key), made.keyPem);
    fs.writeFileSync(p(FILES.cert), made.certPem);
    fs.writeFileSync(caPath, made.caPem);
    return { caPath, caPem: made.caPem, keyPem: made.keyPem, certPem: made.certPem };
  } catch (err) {
    throw new EmulatorError('StateInvalid', `Cannot write TLS certificates in ${stateDir}: check that the folder is writable`, {
      cause: err,
    });
  }
}

function writePrivate(file: string, pem: string): void {
  fs.writeFileSync(file, pem, { mode: 0o600 });
}

/** An RSA-2048 key from node:crypto (forge's pure-JS generation is slow), in both forms. */
export function rsaKeyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(pem);
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e), pem };
}

export function serial(): string {
  // positive, 16 bytes
  return '01' + crypto.randomBytes(15).toString('hex');
}

function generate(): { caPem: string; caKeyPem: string; keyPem: string; certPem: string } {
  const now = new Date(Date.now() - 60_000);
  const until = new Date(now.getTime() + YEARS * 365 * 86_400_000);

  const caKeys = rsaKeyPair();
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serial();
  ca.validity.notBefore = now;
  ca.validity.notAfter = until;
  const caSubject = [
    { name: 'commonName', value: 'Percept IoT Hub Emulator CA' },
    { name: 'organizationName', value: 'percept' },
  ];
  ca.setSubject(caSubject);
  ca.setIssuer(caSubject);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = now;
  cert.validity.notAfter = until;
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(caSubject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKeys.privateKey, forge.md.sha256.create());

  return {
    caPem: forge.pki.certificateToPem(ca),
    caKeyPem: caKeys.pem,
    keyPem: keys.pem,
    certPem: forge.pki.certificateToPem(cert),
  };
}
