// The project's logger: pino, JSON lines on stderr when stderr is not a terminal, readable
// when it is. Secrets never reach a line: known key fields are redacted and any string that
// looks like a SAS key or token is scrubbed before it is written.

import fs from 'node:fs';
import { Writable } from 'node:stream';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/(SharedAccessKey=)[^;"\s]+/gi, '$1[redacted]'],
  [/(SharedAccessSignature\s+)[^"\s]+/gi, '$1[redacted]'],
  [/(sig=)[^&"\s]+/gi, '$1[redacted]'],
  [/(token=)[^&"\s]+/gi, '$1[redacted]'],
];

/** Removes anything that looks like a key or token from a string. */
export function scrub(text: string): string {
  let out = text;
  for (const [re, rep] of SECRET_PATTERNS) out = out.replace(re, rep);
  return out;
}

const REDACT = [
  'key',
  'sharedAccessKey',
  'connectionString',
  'token',
  'password',
  'sas',
  'secret',
  '*.key',
  '*.sharedAccessKey',
  '*.connectionString',
  '*.token',
  '*.password',
  '*.sas',
  '*.secret',
];

export interface LogOptions {
  level?: LevelWithSilent;
  /** Force pretty (true) or JSON (false); default: pretty when stderr is a TTY. */
  pretty?: boolean;
  /** Destination stream (tests); default stderr. */
  destination?: NodeJS.WritableStream;
}

/**
 * The one live line a terminal shows below the logs (a run's summary, on stdout). A readable
 * log line printed while it is shown first erases it and then draws it again below, so the
 * two never share a line. Both writes are synchronous on a terminal, so they cannot interleave.
 */
class StatusLine {
  #text = '';

  get #onTerminal(): boolean {
    return process.stdout.isTTY === true;
  }

  show(text: string): void {
    if (!this.#onTerminal) return;
    this.#text = text;
    process.stdout.write(`\r\x1b[2K${text}`);
  }

  /** Leaves the last text on screen and moves on to a new line. */
  end(): void {
    if (this.#text) process.stdout.write('\n');
    this.#text = '';
  }

  /** Writes a log line around the status line. */
  around(write: () => void): void {
    if (!this.#text) return write();
    process.stdout.write('\r\x1b[2K');
    write();
    process.stdout.write(this.#text);
  }
}

export const statusLine = new StatusLine();

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? (process.env.PERCEPT_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info';
  const usePretty = opts.pretty ?? (opts.destination === undefined && process.stderr.isTTY === true);
  const base = {
    level,
    base: undefined,
    redact: { paths: REDACT, censor: '[redacted]' },
    hooks: {
      // Scrub every string argument: messages can carry a connection string by accident.
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? scrub(a) : a instanceof Error ? scrubError(a) : a)),
        );
      },
    },
    formatters: {
      log(obj: Record<string, unknown>) {
        return scrubObject(obj) as Record<string, unknown>;
      },
    },
  };
  if (usePretty) {
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        statusLine.around(() => fs.writeSync(2, chunk));
        done();
      },
    });
    return pino(base, pretty({ colorize: true, destination, sync: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  const dest = opts.destination ?? pino.destination({ dest: 2, sync: true });
  return pino(base, dest as pino.DestinationStream);
}

function scrubError(e: Error): Error {
  const copy = new Error(scrub(e.message));
  copy.name = e.name;
  copy.stack = e.stack && scrub(e.stack);
  const code = (e as { code?: unknown }).code;
  if (code !== undefined) (copy as { code?: unknown }).code = code;
  return copy;
}

function scrubObject(value: unknown, depth = 0): unknown {
  if (depth > 6) return value;
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map((v) => scrubObject(v, depth + 1));
  if (value instanceof Error) {
    return { type: value.name, message: scrub(value.message), code: (value as { code?: unknown }).code, stack: value.stack && scrub(value.stack) };
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = scrubObject(v, depth + 1);
    return out;
  }
  return value;
}

/** A logger that writes nothing (library use and tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
