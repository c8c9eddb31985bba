// The identity registry: devices and their modules with symmetric keys, persisted in
// `<state>/registry.json`. Another process may add identities to the file (the `hub device
// add` command when no emulator answers), so an unknown identity triggers a reload.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EmulatorError } from './errors.js';
import type { Identity } from './types.js';

export interface ModuleEntry {
  key: string;
  /** iotedged's module generation id, part of the workload API's sign route. */
  generationId: string;
  createdAt: string;
}

export interface DeviceEntry {
  key: string;
  createdAt: string;
  modules: Record<string, ModuleEntry>;
}

interface RegistryFile {
  version: 1;
  devices: Record<string, DeviceEntry>;
}

/** IoT Hub's device and module id alphabet, up to 128 characters. */
const ID_PATTERN = /^[A-Za-z0-9\-.%_*?!(),:=@$']{1,128}$/;

export function validateId(kind: 'device' | 'module', id: unknown): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new EmulatorError(
      'BadRequest',
      `Expected a ${kind} id of 1-128 letters, digits or -.%_*?!(),:=@$' but received ${JSON.stringify(id)}`,
    );
  }
  return id;
}

export function newKey(): string {
  return crypto.randomBytes(32).toString('base64');
}

export class Registry {
  readonly file: string;
  #devices: Record<string, DeviceEntry> = Object.create(null);
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

  /** The key of an identity, or null when it is not registered (after a reload from disk). */
  keyOf(id: Identity): string | null {
    const find = () => {
      const device = this.#devices[id.deviceId];
      if (!device) return null;
      if (id.moduleId === null) return device.key;
      return device.modules[id.moduleId]?.key ?? null;
    };
    const found = find();
    if (found !== null) return found;
    this.reload();
    return find();
  }

  has(id: Identity): boolean {
    return this.keyOf(id) !== null;
  }

  device(deviceId: string): DeviceEntry | null {
    this.reload();
    return this.#devices[deviceId] ?? null;
  }

  list(): Array<{ deviceId: string; modules: string[] }> {
    this.reload();
    return Object.entries(this.#devices).map(([deviceId, d]) => ({ deviceId, modules: Object.keys(d.modules) }));
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
    const body: RegistryFile = { version: 1, devices: this.#devices };
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, this.file);
    this.#mtimeMs = fs.statSync(this.file).mtimeMs;
  }
}
