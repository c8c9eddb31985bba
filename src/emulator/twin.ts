// Device and module twins: desired and reported sections, each with its own `$version`, changed
// by JSON merge patches (null deletes) and persisted in `<state>/twins.json`. Patches are checked
// against IoT Hub's rules (key alphabet, nesting depth, 32 KB per section) before they apply.
import fs from 'node:fs';
import path from 'node:path';
import { EmulatorError } from './errors.js';
import { LIMITS } from './types.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Section = { [key: string]: Json };
export interface TwinDocument {
  desired: Section & { $version: number };
  reported: Section & { $version: number };
}

interface StoredTwin {
  desired: Section;
  desiredVersion: number;
  reported: Section;
  reportedVersion: number;
}

function isObject(v: unknown): v is Section {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * IoT Hub: keys are non-empty, at most 1 KB, without '.', '$', space or control characters.
 * `__proto__` is refused too: assigning it to a JavaScript object sets the prototype instead
 * of a property, so neither this store nor a device's twin code could carry it faithfully.
 */
function checkKeys(value: Json, depth: number, where: string): void {
  if (typeof value !== 'object' || value === null) return;
  // arrays count as levels too, so no nesting of any kind recurses past the limit
  if (depth > LIMITS.twinDepth) {
    throw new EmulatorError('BadRequest', `Twin ${where} nests deeper than ${LIMITS.twinDepth} levels: flatten the patch`);
  }
  if (Array.isArray(value)) {
    for (const v of value) checkKeys(v, depth + 1, where);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k === '__proto__') {
      throw new EmulatorError('BadRequest', `Twin ${where} key "__proto__" is not allowed: JavaScript twin code cannot hold it as a property; rename it`);
    }
    if (k === '' || Buffer.byteLength(k) > 1024 || /[.$ \u0000-\u001f\u007f-\u009f]/.test(k)) {
      throw new EmulatorError(
        'BadRequest',
        `Twin ${where} key ${JSON.stringify(k)} is not allowed: keys are 1-1024 bytes without '.', '$', spaces or control characters`,
      );
    }
    checkKeys(v, depth + 1, where);
  }
}

/** RFC 7386 merge patch, in place; nulls delete and never land in the document. */
function merge(target: Section, patch: Section): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete target[k];
    } else if (isObject(v)) {
      const cur = target[k];
      const next: Section = isObject(cur) ? cur : {};
      merge(next, v);
      target[k] = next;
    } else {
      target[k] = v;
    }
  }
}

export class TwinStore {
  readonly file: string;
  #twins = Object.create(null) as Record<string, StoredTwin>;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'twins.json');
    try {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, StoredTwin>;
      if (isObject(parsed)) Object.assign(this.#twins, parsed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new EmulatorError('StateInvalid', `${this.file} is not valid JSON: fix or delete it`, { cause: err });
      }
    }
  }

  get(key: string): TwinDocument {
    const t = this.#twin(key);
    return {
      desired: { ...structuredClone(t.desired), $version: t.desiredVersion },
      reported: { ...structuredClone(t.reported), $version: t.reportedVersion },
    };
  }

  /** Applies a reported patch from the device; returns the new reported version. */
  patchReported(key: string, patch: unknown): number {
    const t = this.#twin(key);
    t.reported = this.#apply(t.reported, patch, 'reported');
    t.reportedVersion += 1;
    this.#save();
    return t.reportedVersion;
  }

  /** Applies a desired patch from the service; returns what the device is sent. */
  patchDesired(key: string, patch: unknown): { version: number; patch: Section } {
    const t = this.#twin(key);
    t.desired = this.#apply(t.desired, patch, 'desired');
    t.desiredVersion += 1;
    this.#save();
    return { version: t.desiredVersion, patch: { ...(patch as Section), $version: t.desiredVersion } };
  }

  #apply(section: Section, patch: unknown, where: 'desired' | 'reported'): Section {
    if (!isObject(patch)) {
      throw new EmulatorError('BadRequest', `Expected a JSON object as the ${where} patch but received ${JSON.stringify(patch)}`);
    }
    const clean = { ...patch };
    delete clean.$version; // a version in a patch is informational, as in IoT Hub
    checkKeys(clean, 1, where);
    const next = structuredClone(section);
    merge(next, clean);
    const bytes = Buffer.byteLength(JSON.stringify(next));
    if (bytes > LIMITS.twinSectionBytes) {
      throw new EmulatorError(
        'MessageTooLarge',
        `Twin ${where} properties would be ${bytes} bytes, over IoT Hub's ${LIMITS.twinSectionBytes}: the patch was not applied`,
      );
    }
    return next;
  }

  #twin(key: string): StoredTwin {
    let t = this.#twins[key];
    if (!t) {
      t = { desired: {}, desiredVersion: 1, reported: {}, reportedVersion: 1 };
      this.#twins[key] = t;
    }
    return t;
  }

  #save(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.#twins, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }
}
