// Runs a long project command (npm run check:arm64, npm run image) the way the device tests
// need it: in its own process group, at low priority so the rest of the suite keeps the CPU,
// with a deadline after which the whole group gets SIGTERM (the scripts' exit traps unmount
// and remove what they built) and, 30 s later, SIGKILL. A signal to the test process is
// passed on the same way, and the test process waits for the cleanup before it goes.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { ROOT } from './paths.js';

export interface LongResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** How long a stopped command's exit traps get to unmount and remove what it built before SIGKILL. */
export const CLEANUP_GRACE_MS = 30_000;

/**
 * `npm run <script>` in the checkout, niced, as a process group; settles when it is gone.
 * `stopWhen`, checked every 250 ms with what it printed so far, stops it early as the deadline
 * does (SIGTERM to the group, SIGKILL CLEANUP_GRACE_MS later).
 */
export function runLong(
  script: string,
  timeoutMs: number,
  opts: { stopWhen?: (out: { stdout: string; stderr: string }) => boolean } = {},
): Promise<LongResult> {
  return runGroup('nice', ['-n', '10', 'npm', 'run', '--silent', script], timeoutMs, opts);
}

/** `command args` in the checkout as a process group of its own, stopped as runLong says. */
export function runGroup(
  command: string,
  args: string[],
  timeoutMs: number,
  opts: { stopWhen?: (out: { stdout: string; stderr: string }) => boolean } = {},
): Promise<LongResult> {
  const child = spawn(command, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  const killGroup = () => signalGroup('SIGKILL');
  process.on('exit', killGroup);
  // The command has its own session, so a Ctrl-C or a runner's SIGTERM does not reach it:
  // pass it on, and go once its exit traps have cleaned up (an image build's mounts), or after
  // the grace period; the exit handler SIGKILLs whatever is left. Going at once would SIGKILL
  // the cleanup itself.
  const onSignal = (sig: NodeJS.Signals) => {
    signalGroup('SIGTERM');
    const exit = () => process.exit(sig === 'SIGINT' ? 130 : 143);
    // A moment after it is gone, for the test's own cleanup (its finally) to run.
    child.once('close', () => setTimeout(exit, 1000));
    setTimeout(exit, CLEANUP_GRACE_MS);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let timedOut = false;
  let hardKill: NodeJS.Timeout | undefined;
  const stop = () => {
    if (hardKill) return;
    signalGroup('SIGTERM');
    hardKill = setTimeout(killGroup, CLEANUP_GRACE_MS);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, timeoutMs);
  const watch = opts.stopWhen
    ? setInterval(() => {
        if (opts.stopWhen?.({ stdout, stderr })) {
          clearInterval(watch);
          stop();
        }
      }, 250)
    : undefined;
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(watch);
      clearTimeout(hardKill);
      process.off('exit', killGroup);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      killGroup();
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** Mount points under `prefix` in this process's mount namespace (a path prefix, not a folder). */
export function mountsUnder(prefix: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(prefix));
}

/** Unmounts (lazily, deepest first) what `mountsUnder(prefix)` finds, so a checkout stays deletable. */
export function unmountUnder(prefix: string): void {
  for (const m of mountsUnder(prefix).sort().reverse()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
}

/** The last non-empty line a command printed. */
export function lastLine(text: string): string {
  return text.trimEnd().split('\n').pop() ?? '';
}

/** The commands of `tools` not found on PATH. */
export function missingCommands(tools: string[]): string[] {
  return tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
}

/** The Debian packages of `pkgs` not installed. */
export function missingPackages(pkgs: string[]): string[] {
  return pkgs.filter((p) => !/install ok installed/.test(spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout ?? ''));
}

/** Why this process cannot run a root-only device check, or undefined. */
export function notRoot(): string | undefined {
  const uid = process.getuid?.();
  return uid === 0 ? undefined : `it needs root (uid ${uid})`;
}
