// The direct methods getEvents {since?, limit?} and getEventSnapshot {id}, answered through a
// real link and the emulator's method API: events oldest first; without `since` the newest kept
// when cut (by the limit or by IoT Hub's 128 KB answer), with `since` pages forward whose `next`
// loses nothing, never splitting one frame's events; snapshots as base64 JPEG that fit the answer
// (re-encoded smaller when they would not), and bad payloads as 400 ERR_USAGE.
// The methods read the contract's EventReader, fed here; the tracker's own run is
// test/hub/events-e2e.test.ts.
import test from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { FILTERS, startTestHub, waitForSubscription } from '../helpers/emulator.js';
import { testLogger } from '../helpers/delivery.js';
import { image } from '../helpers/paths.js';
import { MemoryEventReader, T0, trackEvent } from '../helpers/events.js';
import { HubLink } from '../../src/hub/link.js';
import { METHOD_LIMIT, getEventSnapshot, getEvents } from '../../src/agent/methods.js';

interface EventsAnswer {
  events: Array<{ id: string; type: string; at: string; zones: string[] }>;
  count: number;
  truncated: boolean;
  next: number | null;
}

/** Pages forward from `since` with each answer's `next` until one is not truncated: every answer, in order. */
async function pageAll(call: (payload: unknown) => Promise<{ status: number; payload: unknown }>, since: number, limit?: number): Promise<EventsAnswer[]> {
  const pages: EventsAnswer[] = [];
  for (let next: number | null = since; ;) {
    const r = await call({ since: next, ...(limit ? { limit } : {}) });
    assert.equal(r.status, 200);
    const a = r.payload as EventsAnswer;
    pages.push(a);
    if (!a.truncated) return pages;
    assert.ok(a.count > 0 && a.next !== null && a.next > next, `a truncated page moves on: ${JSON.stringify({ count: a.count, next: a.next })}`);
    next = a.next;
    assert.ok(pages.length < 1000, 'paging ends');
  }
}

test('getEvents: since and limit, oldest first, newest kept when cut; typed refusals', async () => {
  const reader = new MemoryEventReader();
  for (let i = 0; i < 10; i++) reader.add(trackEvent({ id: `door-${i}`, at: T0 + i * 1000, startedAt: T0 + i * 1000 }));

  const all = await getEvents(reader, null);
  assert.equal(all.status, 200);
  const a = all.payload as EventsAnswer;
  assert.deepEqual(
    a.events.map((e) => e.id),
    Array.from({ length: 10 }, (_, i) => `door-${i}`),
  );
  assert.equal(a.truncated, false);
  assert.equal(a.next, T0 + 9000 + 1);
  assert.equal(a.events[0]!.at, new Date(T0).toISOString());

  const newest = (await getEvents(reader, { limit: 3 })).payload as EventsAnswer;
  assert.deepEqual(
    newest.events.map((e) => e.id),
    ['door-7', 'door-8', 'door-9'],
    'without since: the newest three',
  );
  assert.equal(newest.truncated, true);
  assert.equal(newest.next, T0 + 9000 + 1);

  // With since: a page forward from it, the oldest first; next continues right after it.
  const first = (await getEvents(reader, { since: T0 + 2000, limit: 3 })).payload as EventsAnswer;
  assert.deepEqual(
    first.events.map((e) => e.id),
    ['door-2', 'door-3', 'door-4'],
    'the first three from door-2 on',
  );
  assert.equal(first.truncated, true);
  assert.equal(first.next, T0 + 4000 + 1);
  const pages = await pageAll((p) => getEvents(reader, p), T0 + 2000, 3);
  assert.deepEqual(
    pages.map((p) => p.events.map((e) => e.id)),
    [
      ['door-2', 'door-3', 'door-4'],
      ['door-5', 'door-6', 'door-7'],
      ['door-8', 'door-9'],
    ],
  );
  const cut = pages.at(-1)!;
  assert.equal(cut.next, T0 + 9000 + 1);
  const iso = (await getEvents(reader, { since: new Date(T0 + 8000).toISOString() })).payload as EventsAnswer;
  assert.deepEqual(
    iso.events.map((e) => e.id),
    ['door-8', 'door-9'],
    'since as ISO 8601',
  );
  const after = (await getEvents(reader, { since: cut.next })).payload as EventsAnswer;
  assert.deepEqual(after, { events: [], count: 0, truncated: false, next: cut.next }, 'nothing after the last one yet');

  for (const bad of [{ since: -1 }, { since: 'yesterday' }, { limit: 0 }, { limit: 1001 }, { limit: 2.5 }, { sinse: 0 }, 'all', 7]) {
    const r = await getEvents(reader, bad);
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.equal((r.payload as { error: { code: string } }).error.code, 'ERR_USAGE');
  }
  const none = await getEvents(null, {});
  assert.equal(none.status, 503, 'no pipeline keeping events');
  assert.equal((none.payload as { error: { code: string } }).error.code, 'ERR_SOURCE_FAILED');
});

test('getEvents paging with since never splits the events of one frame (same at), so none is skipped', async () => {
  const reader = new MemoryEventReader();
  // Frames at T0 (two events), T0+1 (three), T0+2 (one), T0+3 (two).
  const ats = [0, 0, 1, 1, 1, 2, 3, 3];
  ats.forEach((dt, i) => reader.add(trackEvent({ id: `door-${i}`, at: T0 + dt })));
  const pages = await pageAll((p) => getEvents(reader, p), T0, 2);
  assert.deepEqual(
    pages.map((p) => p.events.map((e) => e.id)),
    [
      ['door-0', 'door-1'],
      // A frame's group over the limit comes whole rather than being split (or never ending).
      ['door-2', 'door-3', 'door-4'],
      ['door-5'],
      ['door-6', 'door-7'],
    ],
  );
  // With limit 4 the cut after door-3 would split T0+1's group: the page ends before it.
  const four = (await getEvents(reader, { since: T0, limit: 4 })).payload as EventsAnswer;
  assert.deepEqual(
    four.events.map((e) => e.id),
    ['door-0', 'door-1'],
  );
  assert.equal(four.next, T0 + 1);
});

test('getEventSnapshot: typed refusals for bad payloads, 404 for an unknown track', async () => {
  const reader = new MemoryEventReader();
  for (const bad of [null, {}, { id: '' }, { id: 7 }, { id: 'x'.repeat(300) }, { id: 'a', extra: 1 }]) {
    const r = await getEventSnapshot(reader, bad);
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.equal((r.payload as { error: { code: string } }).error.code, 'ERR_USAGE');
  }
  const missing = await getEventSnapshot(reader, { id: 'door-404' });
  assert.equal(missing.status, 404);
  assert.match(JSON.stringify(missing.payload), /no snapshot for track 'door-404'/);
  assert.equal((await getEventSnapshot(null, { id: 'door-1' })).status, 503);
});

test(
  'over the emulator: a long list is cut to the 128 KB answer keeping the newest, paged forward with since it gives every event once, and a large snapshot is re-encoded to fit',
  { timeout: 60_000 },
  async () => {
    const hub = await startTestHub();
    const reader = new MemoryEventReader();
    // 1000 events with long zone lists: far more than one answer holds.
    const zones = Array.from({ length: 8 }, (_, i) => `zone-with-a-long-name-${i}`.padEnd(60, 'x'));
    for (let i = 0; i < 1000; i++) reader.add(trackEvent({ id: `door-${i}`, at: T0 + i, zones }));
    // The best snapshot of a track, small; and one far over the answer (a large, sharp JPEG).
    const small = await sharp(image('dog.jpg')).resize(320).jpeg({ quality: 80 }).toBuffer();
    const big = await sharp(image('astronaut.png')).resize(1600).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer();
    assert.ok(big.length > METHOD_LIMIT, `the large snapshot is ${big.length} bytes`);
    reader.snapshots.set('door-999', small);
    reader.snapshots.set('door-998', big);
    const link = new HubLink({
      connectionString: hub.connectionString,
      ca: hub.ca,
      transport: 'mqtt',
      output: 'detections',
      logger: testLogger(),
      backoffMs: [50, 500],
    });
    link.onMethod('getEvents', (p) => getEvents(reader, p));
    link.onMethod('getEventSnapshot', (p) => getEventSnapshot(reader, p));
    try {
      await link.open();
      await waitForSubscription(hub.hub, FILTERS.methods, hub.deviceId);
      const call = (name: string, payload: unknown) => hub.hub.invokeMethod(hub.deviceId, name, payload, { timeoutSeconds: 10 });

      const r = await call('getEvents', { limit: 1000 });
      assert.equal(r.status, 200);
      const size = Buffer.byteLength(JSON.stringify(r.payload));
      assert.ok(size <= METHOD_LIMIT, `answer ${size} bytes within 128 KB`);
      const a = r.payload as EventsAnswer;
      assert.equal(a.truncated, true);
      assert.ok(a.count > 50 && a.count < 1000, `${a.count} events fit`);
      assert.equal(a.events.at(-1)!.id, 'door-999', 'the newest is kept');
      assert.equal(a.events[0]!.id, `door-${1000 - a.count}`, 'the oldest were left out, none in between');
      assert.deepEqual(a.events[0]!.zones, zones);

      // Paged forward from the first with since and next: every answer within 128 KB, every event once, in order.
      const pages = await pageAll((p) => call('getEvents', p), T0, 1000);
      assert.ok(pages.length > 1, `${pages.length} pages`);
      for (const p of pages) assert.ok(Buffer.byteLength(JSON.stringify(p)) <= METHOD_LIMIT);
      assert.deepEqual(
        pages.flatMap((p) => p.events.map((e) => e.id)),
        Array.from({ length: 1000 }, (_, i) => `door-${i}`),
      );

      const s = await call('getEventSnapshot', { id: 'door-999' });
      assert.equal(s.status, 200);
      const snap = s.payload as {
        id: string;
        label: string;
        source: string;
        at: string;
        score: number;
        box: number[];
        contentType: string;
        image: string;
        width: number;
        height: number;
      };
      assert.equal(snap.contentType, 'image/jpeg');
      assert.ok(Buffer.from(snap.image, 'base64').equals(small), 'a snapshot that fits is sent as it is stored');
      assert.deepEqual(
        [snap.id, snap.label, snap.source, snap.at, snap.score, snap.box],
        ['door-999', 'person', 'door', new Date(T0 + 250).toISOString(), 0.9123, [0.1, 0.2, 0.3, 0.9]],
      );
      assert.deepEqual([snap.width, snap.height], [320, (await sharp(small).metadata()).height]);

      const b = await call('getEventSnapshot', { id: 'door-998' });
      assert.equal(b.status, 200);
      assert.ok(Buffer.byteLength(JSON.stringify(b.payload)) <= METHOD_LIMIT, 'the large snapshot fits once re-encoded');
      const jpeg = Buffer.from((b.payload as { image: string }).image, 'base64');
      const meta = await sharp(jpeg).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.ok(meta.width < 1600 && meta.width > 200, `scaled down to ${meta.width}`);
      assert.equal(meta.width, (b.payload as { width: number }).width);

      const bad = await call('getEvents', { limit: 'all' });
      assert.equal(bad.status, 400);
      assert.equal((await call('getEventSnapshot', { id: 'door-1' })).status, 404);
    } finally {
      await link.close();
      await hub.close();
    }
  },
);
