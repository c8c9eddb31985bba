// Runs the built `percept` command as a child process, as a user would: in its own process
// group, so a test can signal the command alone (as a terminal does) and still kill everything
// it started (ffmpeg, an emulator) when the test is done.
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, ROOT, tempDir } from './paths.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** What it has written so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Settles when it has exited and its pipes are closed. */
  readonly done: Promise<CliResult>;
  /** Polls until `check` holds (true) or the deadline passes (false). */
  waitFor(check: (p: CliProcess) => boolean, ms: number): Promise<boolean>;
  /** SIGKILLs its whole process group (whatever is left of it). */
  killGroup(): void;
}

/** `exactEnv`: the command gets `env` and nothing else (no variable of the test's own environment). */
export function startCli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; exactEnv?: boolean } = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    // Each call its own state folder (a run locks its folder), never the user's home.
    env: opts.exactEnv ? { ...opts.env } : { ...process.env, PERCEPT_LOG_LEVEL: 'info', PERCEPT_STATE_DIR: tempDir('percept-cli-state-'), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.on('exit', killGroup);
  const timer = setTimeout(killGroup, opts.timeoutMs ?? 60_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('exit', killGroup);
      // Anything it left behind (a hung ffmpeg, an orphaned emulator) goes too; tests check
      // for leftovers before this, through the pids and ports they know.
      killGroup();
      resolve({ code, signal, stdout, stderr });
    });
  });
  const p: CliProcess = {
    child,
    pid: child.pid!,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    done,
    async waitFor(check, ms) {
      const deadline = Date.now() + ms;
      while (!check(p) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      return check(p);
    },
    killGroup,
  };
  return p;
}

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; onSpawn?: (pid: number) => void } = {}): Promise<CliResult> {
  const p = startCli(args, opts);
  opts.onSpawn?.(p.pid);
  return p.done;
}

export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
