// The preview page in real headless Chromium draws each source's zones and lines over its
// pictures, the ids of confirmed tracks on their boxes, the zone and line counts, and lists
// the recent track events (those kept before the page opened, then each as it happens) with
// their snapshots, served by /event-snapshot under the page's token. Frames come from a real
// YOLOX-Nano pipeline on dog.jpg; their tracks, the events and the counts are fed by the test
// in the shapes of the events contract (src/events/types.ts), one confirmed track per
// detection, as the tracker gives them for a still picture.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { BrowserContext } from 'playwright-core';
import { openBrowser } from '../helpers/browser.js';
import { startPreview, type PreviewPipeline, type PreviewServer } from '../../src/web/index.js';
import type { TappedFrame } from '../../src/pipeline/pipeline.js';
import type { TrackView } from '../../src/events/types.js';
import { ROOT, image } from '../helpers/paths.js';
import { MemoryEventReader, trackEvent } from '../helpers/events.js';
import { get, memoryLogger, startPipeline, statusGetter } from './helpers.js';

type FrameFn = (f: TappedFrame) => void;

/** The pipeline's frames with `tracks` on their results: one confirmed track per detection (`dog-<n>`, by label). */
function withTracks(p: Awaited<ReturnType<typeof startPipeline>>): PreviewPipeline {
  const wrapped = new Map<FrameFn, FrameFn>();
  const tracksOf = (f: TappedFrame): TrackView[] =>
    [...f.result.detections]
      .sort((a, b) => a.label.localeCompare(b.label))
      .map((d, i) => ({
        id: `dog-${i + 1}`,
        label: d.label,
        score: d.confidence,
        box: d.boxNorm,
        state: d.label === 'car' ? 'stationary' : 'confirmed',
        hits: 10,
        seen: true,
      }));
  return {
    on(ev: 'frame' | 'result', fn: never) {
      if (ev === 'result') return p.on('result', fn);
      const w: FrameFn = (f) => (fn as FrameFn)({ ...f, result: Object.assign({ ...f.result }, { tracks: tracksOf(f) }) });
      wrapped.set(fn, w);
      return p.on('frame', w);
    },
    off(ev: 'frame' | 'result', fn: never) {
      if (ev === 'result') return p.off('result', fn);
      const w = wrapped.get(fn);
      wrapped.delete(fn);
      return w ? p.off('frame', w) : p;
    },
    status: () => p.status(),
    metrics: p.metrics,
  };
}

const LAYOUT = [
  {
    id: 'dog',
    zones: [
      {
        name: 'porch',
        points: [
          [0, 0.5],
          [0.5, 0.5],
          [0.5, 1],
          [0, 1],
        ] as Array<[number, number]>,
      },
    ],
    lines: [
      {
        name: 'kerb',
        points: [
          [0.6, 0],
          [0.6, 1],
        ] as Array<[number, number]>,
      },
    ],
  },
];
const TOKEN = 'events-page-token-0123456789';

test('the page draws zones, lines and track ids, shows the counts and lists recent events with their snapshots', { timeout: 90_000 }, async () => {
  const { logger } = memoryLogger('info');
  const pipeline = await startPipeline([{ id: 'dog', kind: 'image', uri: image('dog.jpg'), loop: true, fps: 8 }], 1);
  const reader = new MemoryEventReader();
  const now = Date.now();
  reader.add(
    trackEvent({
      type: 'new',
      id: 'dog-3',
      label: 'dog',
      source: 'dog',
      at: now - 5000,
      startedAt: now - 6000,
      zones: ['porch'],
      snapshot: { at: now - 5500, score: 0.9, box: [0.17, 0.38, 0.42, 0.94], bytes: 0 },
    }),
  );
  // The snapshot as the store keeps it: a JPEG crop around the dog.
  const crop = await sharp(image('dog.jpg')).extract({ left: 120, top: 200, width: 220, height: 360 }).jpeg({ quality: 80 }).toBuffer();
  reader.snapshots.set('dog-3', crop);
  const base = statusGetter(() => pipeline);
  const status = () => ({
    ...base(),
    events: { zones: [{ source: 'dog', zone: 'porch', entered: 3, exited: 2, present: 1 }], lines: [{ source: 'dog', line: 'kerb', forward: 4, backward: 1 }] },
  });
  let preview: PreviewServer | null = null;
  let browser: BrowserContext | null = null;
  try {
    preview = await startPreview({
      host: '0.0.0.0',
      port: 0,
      token: TOKEN,
      maxFps: 8,
      logger,
      pipeline: withTracks(pipeline),
      status,
      layout: () => LAYOUT,
      events: () => reader,
    });
    // The event routes are behind the token like the page's stream; bad arguments are refused.
    assert.equal((await get(preview.port, '/event-snapshot?id=dog-3')).status, 401);
    const snap = await get(preview.port, `/event-snapshot?id=dog-3&token=${TOKEN}`);
    assert.equal(snap.status, 200);
    assert.equal(snap.headers['content-type'], 'image/jpeg');
    assert.equal((await get(preview.port, `/event-snapshot?id=dog-99&token=${TOKEN}`)).status, 404);
    assert.equal((await get(preview.port, `/event-snapshot?token=${TOKEN}`)).status, 400);
    assert.equal((await get(preview.port, `/recent-events?limit=0&token=${TOKEN}`)).status, 400);
    const recent = JSON.parse((await get(preview.port, `/recent-events?token=${TOKEN}`)).body) as { events: Array<{ id: string; at: string }> };
    assert.deepEqual(
      recent.events.map((e) => e.id),
      ['dog-3'],
    );
    assert.equal(recent.events[0]!.at, new Date(now - 5000).toISOString());

    const opened = await openBrowser(900);
    browser = opened.browser;
    const { page, errors } = opened;
    assert.equal((await page.goto(`http://127.0.0.1:${preview.port}/?token=${TOKEN}`))?.status(), 200);
    const until = async (expr: string, ms: number) => {
      const deadline = Date.now() + ms;
      while (!(await page.evaluate(expr))) {
        if (Date.now() > deadline) throw new Error(`page never satisfied: ${expr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    // Tracks: one dashed box per confirmed track, labelled with its id.
    await until('window.__percept.sources.dog?.tracks?.length >= 3', 20_000);
    const tracks = await page.evaluate<
      Array<{ id: string; label: string; text: string; w: number; h: number }>
    >(`[...document.querySelectorAll('[data-source="dog"] .box.trk')].map((e) => {
      const r = e.getBoundingClientRect();
      return { id: e.dataset.track, label: e.dataset.label, text: e.textContent, w: r.width, h: r.height };
    })`);
    assert.deepEqual(tracks.map((t) => [t.id, t.label]).sort(), [
      ['dog-1', 'bicycle'],
      ['dog-2', 'car'],
      ['dog-3', 'dog'],
    ]);
    for (const t of tracks) assert.ok(t.text.startsWith(t.id) && t.w > 20 && t.h > 20, `${t.id} drawn with its id: ${t.text} ${t.w}x${t.h}`);
    assert.match(tracks.find((t) => t.id === 'dog-2')!.text, /still/, 'a stationary track says so');

    // Zones and lines over the picture: the porch covers the lower left quarter.
    await until(`document.querySelector('[data-source="dog"] polygon[data-zone="porch"]') !== null`, 10_000);
    const shapes = await page.evaluate<{ stage: number[]; zone: number[]; line: string | null; tags: string[] }>(`(() => {
      const stage = document.querySelector('[data-source="dog"] canvas').getBoundingClientRect();
      const zone = document.querySelector('[data-source="dog"] polygon[data-zone="porch"]').getBoundingClientRect();
      const line = document.querySelector('[data-source="dog"] polyline[data-line="kerb"]');
      const tags = [...document.querySelectorAll('[data-source="dog"] .tag')].map((e) => e.textContent);
      return { stage: [stage.width, stage.height], zone: [zone.width, zone.height], line: line && line.getAttribute('points'), tags };
    })()`);
    assert.equal(shapes.line, '0.6,0 0.6,1');
    assert.deepEqual(shapes.tags.sort(), ['kerb', 'porch']);
    const [sw, sh] = shapes.stage as [number, number];
    const [zw, zh] = shapes.zone as [number, number];
    assert.ok(Math.abs(zw - sw / 2) < 4 && Math.abs(zh - sh / 2) < 4, `the zone spans half the picture each way: ${zw}x${zh} of ${sw}x${sh}`);

    // The counts card.
    await until(`/porch/.test(document.getElementById('counts').textContent)`, 5_000);
    const counts = (await page.textContent('#counts')) ?? '';
    assert.match(counts, /dog · porch\s*in 1 · ↘3 ↗2/);
    assert.match(counts, /dog · kerb\s*→4 ←1/);

    // The event kept before the page opened is listed with its snapshot...
    await until(`document.querySelectorAll('#events li[data-event]').length >= 1 && window.__percept.snapshots >= 1`, 10_000);
    // ...and one that happens now arrives over the stream, on top.
    const end = trackEvent({
      type: 'end',
      id: 'dog-3',
      label: 'dog',
      source: 'dog',
      at: Date.now(),
      startedAt: now - 6000,
      endedAt: Date.now() - 100,
      zones: [],
      snapshot: { at: now - 5500, score: 0.9, box: [0.17, 0.38, 0.42, 0.94], bytes: crop.length },
    });
    reader.add(end);
    preview.pushEvent(end);
    await until(`document.querySelectorAll('#events li[data-event]').length >= 2 && window.__percept.snapshots >= 2`, 10_000);
    const rows = await page.evaluate<
      Array<{ id: string; type: string; text: string; img: number[] | null }>
    >(`[...document.querySelectorAll('#events li[data-event]')].map((li) => {
      const img = li.querySelector('img');
      return { id: li.dataset.event, type: li.dataset.type, text: li.textContent, img: img ? [img.naturalWidth, img.naturalHeight] : null };
    })`);
    assert.deepEqual(
      rows.map((r) => [r.type, r.id]),
      [
        ['end', 'dog-3'],
        ['new', 'dog-3'],
      ],
      'newest first',
    );
    for (const r of rows) assert.deepEqual(r.img, [220, 360], `the ${r.type} row shows the snapshot`);
    assert.match(rows[1]!.text, /in porch/);
    assert.match(rows[0]!.text, /\d+\.\d s/, 'the end row says how long the track lasted');

    const dir = path.join(ROOT, 'test-artifacts');
    fs.mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, 'preview-events.png') });
    assert.deepEqual(errors, [], 'no script errors or blocked loads on the page');
  } finally {
    await browser?.close();
    await preview?.close();
    await pipeline.stop();
  }
});
