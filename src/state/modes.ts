// File modes for what percept keeps on disk: state folders 0700, files 0600, whatever the
// umask. The outbox, saved twin, keys and the emulator's registry and messages are private
// to the user that runs them.
import fs from 'node:fs';

/** Creates `dir` (and missing parents) 0700; an existing folder keeps its mode. */
export function ensurePrivateDir(dir: string): void {
  // mkdir's mode is masked by the umask, never widened by it: 0700 stays at most 0700.
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Sets each existing file to 0600; missing files are skipped. */
export function makePrivate(...files: string[]): void {
  for (const f of files) {
    try {
      fs.chmodSync(f, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}
