// The event store: ids stay unique across runs on one folder, snapshots are bounded in bytes
// (oldest removed first) and in age, events in count and age; a snapshot is a JPEG crop of the
// object small enough for a direct-method answer.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { EventStore } from '../../src/events/store.js';
import { cropSnapshot, SNAPSHOT_MAX_BYTES } from '../../src/events/snapshot.js';
import type { PerceptEvent } from '../../src/events/types.js';
import { image, tempDir } from '../helpers/paths.js';

const ev = (id: string, at: number): PerceptEvent => ({
  type: 'new',
  id,
  label: 'dog',
  source: 'cam',
  at,
  startedAt: at,
  endedAt: null,
  topScore: 0.9,
  medianScore: 0.8,
  box: [0.1, 0.1, 0.5, 0.5],
  zones: [],
  stationary: false,
  snapshot: null,
});

test('track ids continue across stores on the same folder', () => {
  const dir = tempDir();
  const a = EventStore.open(dir);
  assert.equal(a.nextId('cam'), 'cam-1');
  assert.equal(a.nextId('door'), 'door-2');
  const b = EventStore.open(dir);
  assert.equal(b.nextId('cam'), 'cam-3');
});

test('snapshots are bounded in bytes, oldest first, and in age; events in count and age', async () => {
  const dir = tempDir();
  let now = 1_000_000;
  const store = EventStore.open(dir, { maxBytes: 2500, maxEvents: 3, retentionMs: 10_000, now: () => now });
  for (let i = 1; i <= 3; i++) await store.putSnapshot(`cam-${i}`, Buffer.alloc(1000, i), now);
  assert.equal(await store.snapshot('cam-1'), null, 'the oldest went to hold 2500 bytes');
  assert.equal((await store.snapshot('cam-3'))?.length, 1000);
  // The file goes too (removed in the background; wait for it, not for a time).
  while (fs.existsSync(path.join(dir, 'cam-1.jpg'))) await new Promise((r) => setImmediate(r));
  assert.ok(store.bytes <= 2500);
  for (let i = 1; i <= 5; i++) store.add(ev(`cam-${i}`, now + i));
  assert.deepEqual(
    store.list().map((e) => e.id),
    ['cam-3', 'cam-4', 'cam-5'],
  );
  assert.deepEqual(
    store.list({ since: now + 4 }).map((e) => e.id),
    ['cam-4', 'cam-5'],
  );
  assert.deepEqual(
    store.list({ limit: 1 }).map((e) => e.id),
    ['cam-5'],
  );
  now += 20_000;
  assert.deepEqual(store.list(), []);
  assert.equal(await store.snapshot('cam-3'), null, 'expired');
  // A reopened store counts the files already there toward its bound.
  await store.putSnapshot('cam-9', Buffer.alloc(2000), now);
  const again = EventStore.open(dir, { maxBytes: 2500, now: () => now });
  assert.equal(again.bytes, 2000);
  // Ids from a caller are checked before they name a file.
  assert.equal(await again.snapshot('../outbox.db'), null);
});

test('a snapshot is the object with a margin, a JPEG within the method limit', async () => {
  const data = fs.readFileSync(image('dog.jpg'));
  const meta = await sharp(data).metadata();
  const jpeg = await cropSnapshot({ data, format: 'jpeg', width: 0, height: 0 }, [0.2, 0.3, 0.6, 0.9]);
  assert.ok(jpeg.length <= SNAPSHOT_MAX_BYTES);
  assert.ok(Buffer.from(jpeg).toString('base64').length < 128 * 1024 - 4096);
  const m = await sharp(jpeg).metadata();
  assert.equal(m.format, 'jpeg');
  // 0.4 x 0.6 of the frame plus a quarter on each side (1.5x), capped at 640 px.
  const w = Math.min(meta.width * 0.6, 640);
  assert.ok(Math.abs((m.width ?? 0) - w) / w < 0.05 || (m.height ?? 0) === 640, `${m.width}x${m.height} of ${meta.width}x${meta.height}`);
  // Raw frames are cut the same way.
  const { data: rgb, info } = await sharp(data).raw().toBuffer({ resolveWithObject: true });
  const raw = await cropSnapshot({ data: rgb, format: 'rgb24', width: info.width, height: info.height }, [0.2, 0.3, 0.6, 0.9]);
  assert.equal((await sharp(raw).metadata()).format, 'jpeg');
});

test('a folder the store cannot use is ERR_CONFIG naming it and the fix', () => {
  const file = path.join(tempDir(), 'not-a-folder');
  fs.writeFileSync(file, 'x');
  assert.throws(
    () => EventStore.open(path.join(file, 'events')),
    (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'ERR_CONFIG' && /not-a-folder\/events.*--state-dir/.test(e.message),
  );
});
