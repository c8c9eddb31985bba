// SoftwareSigner: an ECDSA P-256 key in a PEM file, for laptops and boards without a TPM.
// The key is created on first use (mode 0600, published atomically so two processes
// starting together agree on one key) and signs off the main thread via node:crypto.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PerceptError } from '../errors.js';
import { keyIdOf, type Signer } from './signer.js';

function signAsync(data: Buffer, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    cryptoSign('sha256', data, key, (err, sig) => (err ? reject(err) : resolve(sig)));
  });
}

function keyFileError(file: string, why: string, cause?: unknown): PerceptError {
  return new PerceptError('ERR_CONFIG', `Signing key file ${file}: ${why}`, cause === undefined ? undefined : { cause });
}

async function createKeyFile(file: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  // Write a private temp file, then link it into place: link() fails if another process
  // created the key first, so nobody ever overwrites a key or reads a half-written one.
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await fs.open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(pem);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.link(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
}

export class SoftwareSigner implements Signer {
  readonly attestation = 'software' as const;
  readonly kid: string;
  readonly publicKeyPem: string;
  readonly keyFile: string;
  #key: KeyObject;

  private constructor(keyFile: string, key: KeyObject) {
    this.keyFile = keyFile;
    this.#key = key;
    const pub = createPublicKey(key);
    this.publicKeyPem = pub.export({ format: 'pem', type: 'spki' }) as string;
    this.kid = keyIdOf(pub.export({ format: 'der', type: 'spki' }));
  }

  /** Loads the key at `keyFile`, creating it (and its folder, mode 0700) if missing. */
  static async open(keyFile: string): Promise<SoftwareSigner> {
    const file = path.resolve(keyFile);
    let pem: string;
    try {
      pem = await fs.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw keyFileError(file, 'cannot be read', e);
      await createKeyFile(file).catch((err: unknown) => {
        throw keyFileError(file, 'cannot be created', err);
      });
      pem = await fs.readFile(file, 'utf8');
    }
    const mode = (await fs.stat(file)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      // Like ssh: a private key others can read is a key others may have copied.
      throw keyFileError(file, `is readable by other users (mode ${mode.toString(8)}); run chmod 600 ${file}`);
    }
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch (e) {
      throw keyFileError(file, 'is not a PEM private key', e);
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw keyFileError(file, 'must hold an ECDSA P-256 key');
    }
    return new SoftwareSigner(file, key);
  }

  sign(digest: Buffer): Promise<Buffer> {
    return signAsync(digest, this.#key);
  }

  async close(): Promise<void> {
    // Nothing to release: the key lives in this process's memory only.
  }
}
