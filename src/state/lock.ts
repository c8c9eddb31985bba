// One process per state folder: an exclusive SQLite lock on `<dir>/lock.db`, held for the
// life of the process. SQLite locks with fcntl(), so the kernel drops the lock when the
// process ends in any way (SIGKILL, a crash): nothing stale is left to clean up.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PerceptError } from '../errors.js';
import { ensurePrivateDir, makePrivate } from './modes.js';

const LOCK_FILE = 'lock.db';
// Names the holder for the message a second process prints. Advisory only: the SQLite lock
// decides, the pid file just explains.
const PID_FILE = 'lock.pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(dir: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, PID_FILE), 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** The process that holds `dir`; waits briefly for a holder that is still writing its pid. */
function holderOf(dir: string): number | null {
  // A holder writes its pid just after it takes the lock: a pid that is not (yet) alive is the
  // previous holder's, so read again a few times before giving up on naming it.
  for (let i = 0; i < 20; i++) {
    const pid = readPid(dir);
    if (pid !== null && alive(pid)) return pid;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
  return null;
}

export class StateLock {
  readonly dir: string;
  #db: Database.Database | null;

  private constructor(dir: string, db: Database.Database) {
    this.dir = dir;
    this.#db = db;
  }

  /**
   * Takes the state folder `dir` for this process, creating it (mode 0700) if needed.
   * Throws ERR_STATE_LOCKED when another process (or another lock in this one) holds it.
   */
  static acquire(dir: string, what = 'percept'): StateLock {
    const abs = path.resolve(dir);
    try {
      ensurePrivateDir(abs);
    } catch (e) {
      throw new PerceptError(
        'ERR_CONFIG',
        `the state folder ${abs} cannot be created (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); choose a writable --state-dir`,
      );
    }
    const file = path.join(abs, LOCK_FILE);
    let db: Database.Database;
    try {
      db = new Database(file, { timeout: 0 });
      makePrivate(file);
    } catch (e) {
      throw new PerceptError('ERR_CONFIG', `the state folder ${abs} cannot be locked (${(e as Error).message}); choose a writable --state-dir`);
    }
    try {
      // Never committed: the open transaction is the lock, and closing rolls it back.
      db.exec('BEGIN EXCLUSIVE');
    } catch (e) {
      db.close();
      if ((e as { code?: string }).code !== 'SQLITE_BUSY') {
        throw new PerceptError('ERR_CONFIG', `the state folder ${abs} cannot be locked (${(e as Error).message})`);
      }
      const pid = holderOf(abs);
      throw new PerceptError(
        'ERR_STATE_LOCKED',
        `${abs} is in use by ${pid === null ? 'another process' : `process ${pid}`}: one state folder serves one ${what} at a time; stop the other one, or give this one its own state folder`,
      );
    }
    const tmp = path.join(abs, `${PID_FILE}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, `${process.pid}\n`, { mode: 0o600 });
    fs.renameSync(tmp, path.join(abs, PID_FILE));
    return new StateLock(abs, db);
  }

  /** The pid holding `dir`, or null when nothing holds it. Takes and drops the lock to find out. */
  static holder(dir: string): number | null {
    try {
      StateLock.acquire(dir).release();
      return null;
    } catch (e) {
      if (!PerceptError.is(e, 'ERR_STATE_LOCKED')) throw e;
      return holderOf(path.resolve(dir)) ?? -1;
    }
  }

  /** Gives the folder up; the process ending does the same. */
  release(): void {
    if (!this.#db) return;
    if (readPid(this.dir) === process.pid) fs.rmSync(path.join(this.dir, PID_FILE), { force: true });
    this.#db.close();
    this.#db = null;
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
