// The identity registry: devices (symmetric key or X.509), their modules (symmetric keys) and
// verified CA certificates, persisted in `<state>/registry.json`. Another process may add to the
// file (the `hub device add` command when no emulator answers), so a miss triggers a reload.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EmulatorError } from './errors.js';
import type { Identity } from './types.js';
import { caCertificate, normalizeThumbprint, type X509Auth } from './x509.js';

export interface ModuleEntry {
  key: string;
  /** iotedged's module generation id, part of the workload API's sign route. */
  generationId: string;
  createdAt: string;
}

export interface DeviceEntry {
  /** The symmetric key of a SAS device; absent for an X.509 device. */
  key?: string;
  x509?: X509Auth;
  createdAt: string;
  modules: Record<string, ModuleEntry>;
}

/** A CA certificate registered (and, in IoT Hub's terms, verified) for CA-signed devices. */
export interface CertificateEntry {
  pem: string;
  createdAt: string;
}

/** How an identity proves itself at CONNECT. */
export type Credential = { kind: 'sas'; key: string } | { kind: 'x509'; x509: X509Auth };

interface RegistryFile {
  version: 1;
  devices: Record<string, DeviceEntry>;
  certificates?: Record<string, CertificateEntry>;
}

/** IoT Hub's device and module id alphabet, up to 128 characters. */
const ID_PATTERN = /^[A-Za-z0-9\-.%_*?!(),:=@$']{1,128}$/;

export function validateId(kind: 'device' | 'module', id: unknown): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new EmulatorError('BadRequest', `Expected a ${kind} id of 1-128 letters, digits or -.%_*?!(),:=@$' but received ${JSON.stringify(id)}`);
  }
  return id;
}

export function newKey(): string {
  return crypto.randomBytes(32).toString('base64');
}

export class Registry {
  readonly file: string;
  #devices = Object.create(null) as Record<string, DeviceEntry>;
  #certificates = Object.create(null) as Record<string, CertificateEntry>;
  #mtimeMs = -1;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'registry.json');
    this.reload();
  }

  /** Re-reads the file when it changed on disk. */
  reload(): void {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.file);
    } catch {
      return; // no file yet: an empty registry
    }
    if (stat.mtimeMs === this.#mtimeMs) return;
    let parsed: RegistryFile;
    try {
      parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as RegistryFile;
    } catch (err) {
      throw new EmulatorError('StateInvalid', `${this.file} is not valid JSON: fix or delete it`, { cause: err });
    }
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.devices !== 'object' || parsed.devices === null) {
      throw new EmulatorError('StateInvalid', `${this.file} has no "devices" object: fix or delete it`);
    }
    this.#devices = Object.assign(Object.create(null) as Record<string, DeviceEntry>, parsed.devices);
    this.#certificates = Object.assign(Object.create(null) as Record<string, CertificateEntry>, parsed.certificates ?? {});
    this.#mtimeMs = stat.mtimeMs;
  }

  /** Adds a device (and a module of it) if missing; returns the identity's key. Idempotent. */
  add(deviceId: string, moduleId: string | null = null): { key: string; created: boolean } {
    validateId('device', deviceId);
    if (moduleId !== null) validateId('module', moduleId);
    this.reload();
    let created = false;
    let device = this.#devices[deviceId];
    if (!device) {
      device = { key: newKey(), createdAt: new Date().toISOString(), modules: {} };
      this.#devices[deviceId] = device;
      created = true;
    }
    if (moduleId === null) {
      if (device.key === undefined) {
        throw new EmulatorError(
          'DeviceAlreadyExists',
          `Device ${deviceId} is registered with X.509 authentication: use its certificate, or register another id`,
        );
      }
      if (created) this.#save();
      return { key: device.key, created };
    }
    let mod = device.modules[moduleId];
    if (!mod) {
      mod = { key: newKey(), generationId: crypto.randomBytes(8).toString('hex'), createdAt: new Date().toISOString() };
      device.modules[moduleId] = mod;
      created = true;
    }
    if (created) this.#save();
    return { key: mod.key, created };
  }

  /**
   * Registers an X.509 device: `selfSigned` with its certificate's thumbprints, or
   * `certificateAuthority` (a registered CA issued its certificate, CN = device id). Adding
   * the same registration again is a no-op; a different one for an existing id is refused.
   */
  addX509(deviceId: string, x509: X509Auth): { created: boolean } {
    validateId('device', deviceId);
    const auth: X509Auth =
      x509.type === 'selfSigned'
        ? { type: 'selfSigned', thumbprints: [...new Set(x509.thumbprints.map(normalizeThumbprint))] }
        : { type: 'certificateAuthority', thumbprints: [] };
    if (auth.type === 'selfSigned' && auth.thumbprints.length === 0)
      throw new EmulatorError('BadRequest', 'A self-signed X.509 device needs the SHA-1 or SHA-256 thumbprint of its certificate');
    this.reload();
    const existing = this.#devices[deviceId];
    if (existing) {
      const same = existing.x509?.type === auth.type && auth.thumbprints.every((t) => existing.x509!.thumbprints.includes(t));
      if (same) return { created: false };
      const how = existing.x509 ? `X.509 (${existing.x509.type}) with other thumbprints` : 'a symmetric key';
      throw new EmulatorError('DeviceAlreadyExists', `Device ${deviceId} is already registered with ${how}: register another id`);
    }
    this.#devices[deviceId] = { x509: auth, createdAt: new Date().toISOString(), modules: {} };
    this.#save();
    return { created: true };
  }

  /** Registers a CA certificate for CA-signed devices (the PEM must be a CA). Idempotent per name. */
  addCertificate(name: string, pem: string): { created: boolean } {
    if (typeof name !== 'string' || !/^[A-Za-z0-9\-._]{1,64}$/.test(name)) {
      throw new EmulatorError('BadRequest', `Expected a certificate name of 1-64 letters, digits or -._ but received ${JSON.stringify(name)}`);
    }
    caCertificate(pem); // throws BadRequest when it is not a CA certificate
    this.reload();
    if (this.#certificates[name]?.pem === pem) return { created: false };
    this.#certificates[name] = { pem, createdAt: new Date().toISOString() };
    this.#save();
    return { created: true };
  }

  /** The registered CA certificates, PEM by name. */
  certificates(): Record<string, string> {
    this.reload();
    return Object.fromEntries(Object.entries(this.#certificates).map(([n, c]) => [n, c.pem]));
  }

  /** How an identity authenticates, or null when it is not registered (after a reload from disk). */
  credential(id: Identity): Credential | null {
    const find = (): Credential | null => {
      const device = this.#devices[id.deviceId];
      if (!device) return null;
      if (id.moduleId !== null) {
        const mod = device.modules[id.moduleId];
        return mod ? { kind: 'sas', key: mod.key } : null;
      }
      if (device.x509) return { kind: 'x509', x509: device.x509 };
      return device.key === undefined ? null : { kind: 'sas', key: device.key };
    };
    const found = find();
    if (found !== null) return found;
    this.reload();
    return find();
  }

  /** The symmetric key of an identity, or null when it is not registered or uses X.509. */
  keyOf(id: Identity): string | null {
    const c = this.credential(id);
    return c?.kind === 'sas' ? c.key : null;
  }

  has(id: Identity): boolean {
    return this.credential(id) !== null;
  }

  device(deviceId: string): DeviceEntry | null {
    this.reload();
    return this.#devices[deviceId] ?? null;
  }

  list(): Array<{ deviceId: string; auth: 'sas' | 'x509'; modules: string[] }> {
    this.reload();
    return Object.entries(this.#devices).map(([deviceId, d]) => ({ deviceId, auth: d.x509 ? 'x509' : 'sas', modules: Object.keys(d.modules) }));
  }

  /** The module holding this generation id (the workload API names modules by id and generation). */
  byGeneration(moduleId: string, generationId: string): { id: Identity; key: string } | null {
    this.reload();
    for (const [deviceId, device] of Object.entries(this.#devices)) {
      const mod = device.modules[moduleId];
      if (mod && mod.generationId === generationId) return { id: { deviceId, moduleId }, key: mod.key };
    }
    return null;
  }

  #save(): void {
    const body: RegistryFile = { version: 1, devices: this.#devices, certificates: this.#certificates };
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, this.file);
    this.#mtimeMs = fs.statSync(this.file).mtimeMs;
  }
}
