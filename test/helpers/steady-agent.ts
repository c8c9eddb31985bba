// A real agent process producing ~40 messages a second: four looping sources of a small JPEG at
// 20 fps, BlazeFace (about a millisecond a frame), a message per source per 100 ms window (up to
// 10/s a source, ~40/s in all). Also reads the agent's outbox: its chain head and depth.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import Database from 'better-sqlite3';
import { image, tempDir } from './paths.js';
import { jsonLines } from './cli.js';

let small: string | undefined;

/** dog.jpg at 192x144: cheap to decode, so the test measures delivery, not JPEG decoding. */
export async function smallImage(): Promise<string> {
  if (small) return small;
  const file = path.join(tempDir('percept-img-'), 'dog-small.jpg');
  await sharp(image('dog.jpg')).resize(192, 144).jpeg({ quality: 80 }).toFile(file);
  small = file;
  return file;
}

export async function steadyAgentArgs(connectionString: string, caPath: string, stateDir: string, extra: string[] = []): Promise<string[]> {
  const img = await smallImage();
  const config = path.join(stateDir, 'test-config.json');
  // Reconnect quickly in tests (the default backoff starts at 500 ms and tops out at 30 s).
  fs.mkdirSync(stateDir, { recursive: true });
  fs.writeFileSync(config, JSON.stringify({ hub: { backoffMinMs: 100, backoffMaxMs: 1000 } }));
  return [
    'run',
    '--config',
    config,
    '--source',
    `a=${img}`,
    '--source',
    `b=${img}`,
    '--source',
    `c=${img}`,
    '--source',
    `d=${img}`,
    '--loop',
    '--fps',
    '20',
    '--model',
    'blazeface-front',
    '--workers',
    '1',
    '--telemetry-interval',
    '100',
    '--connection-string',
    connectionString,
    '--ca',
    caPath,
    '--state-dir',
    stateDir,
    '--no-preview',
    '--output',
    'none',
    ...extra,
  ];
}

/** The outbox's chain head: the boot and sequence of the last accepted message. */
export function outboxHead(stateDir: string): { boot: string; seq: number; digest: string; depth: number } | null {
  const file = path.join(stateDir, 'outbox.db');
  if (!fs.existsSync(file)) return null;
  const db = new Database(file);
  try {
    const get = (k: string) => (db.prepare('SELECT value FROM meta WHERE key = ?').get(k) as { value: string } | undefined)?.value;
    const head = get('head_seq');
    if (!head) return null;
    const [boot = '', seq] = head.split(':');
    const depth = (db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
    return { boot, seq: Number(seq), digest: get('head_digest') ?? '', depth };
  } finally {
    db.close();
  }
}

/** The hub account of the agent's last log line ('stopped'). */
export function stoppedHub(stderr: string): Record<string, unknown> | null {
  const line = jsonLines(stderr).find((l) => l.msg === 'stopped');
  return (line?.hub as Record<string, unknown> | undefined) ?? null;
}
