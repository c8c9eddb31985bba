// Runs the agent (`percept run`) as a real child process against a test hub, and stops it.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { CLI, ROOT, YOLOX_NANO, image, tempDir } from './paths.js';
import type { TestHub } from './emulator.js';

export interface AgentProcess {
  child: ChildProcess;
  stateDir: string;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

export function agentArgs(hub: TestHub, stateDir: string, extra: string[] = []): string[] {
  return [
    'run',
    '--source',
    `dog=${image('dog.jpg')}`,
    '--loop',
    '--fps',
    '8',
    '--model',
    'yolox-nano',
    '--model-path',
    YOLOX_NANO,
    '--connection-string',
    hub.connectionString,
    '--ca',
    path.join(hub.stateDir, 'ca.pem'),
    '--state-dir',
    stateDir,
    '--no-preview',
    '--output',
    'none',
    ...extra,
  ];
}

export function startAgent(args: string[], opts: { stateDir?: string; env?: NodeJS.ProcessEnv } = {}): AgentProcess {
  const stateDir = opts.stateDir ?? tempDir('percept-agent-');
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const kill = () => child.exitCode === null && child.kill('SIGKILL');
  process.on('exit', kill);
  child.on('close', () => process.off('exit', kill));
  return {
    child,
    stateDir,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(kill, 20_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

export async function until<T>(
  what: string,
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
