// The preview page in real headless Chromium: live frames arrive, and for dog.jpg with
// YOLOX-Nano the page lists dog, bicycle and car and draws three boxes over the picture.
// A second source (a PNG, transcoded to JPEG for the page) gets its own tile; a token-guarded
// server serves the same page, whose event stream carries the token from its address.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { openBrowser } from '../helpers/browser.js';
import { startPreview, type PreviewServer } from '../../src/web/index.js';
import { ROOT, image } from '../helpers/paths.js';
import { memoryLogger, startPipeline, statusGetter } from './helpers.js';
import { at, must } from '../helpers/at.js';

interface PageState {
  frames: number;
  connected: boolean;
  sources: Record<string, { frames: number; boxes: Array<{ label: string; confidence: number; box: number[] }> }>;
}

test('the page shows live frames with the detections of dog.jpg drawn over them', { timeout: 60_000 }, async () => {
  const { logger } = memoryLogger('info');
  const pipeline = await startPipeline(
    [
      { id: 'dog', kind: 'image', uri: image('dog.jpg'), loop: true, fps: 10 },
      { id: 'cat', kind: 'image', uri: image('chelsea.png'), loop: true, fps: 5 },
    ],
    2,
  );
  const preview = await startPreview({ host: '127.0.0.1', port: 0, maxFps: 10, logger, pipeline, status: statusGetter(() => pipeline) });
  let browser: BrowserContext | null = null;
  let guarded: PreviewServer | null = null;
  try {
    const opened = await openBrowser(860);
    browser = opened.browser;
    const { page, errors } = opened;
    const res = await page.goto(preview.url);
    assert.equal(res?.status(), 200);
    assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'sha256-/);

    // Page-side code is passed as strings: this project compiles without the DOM library.
    // (page.waitForFunction evaluates strings with eval, which the page's CSP rightly forbids.)
    const state = async () => page.evaluate<PageState>('window.__percept');
    const until = async (expr: string, ms: number) => {
      const deadline = Date.now() + ms;
      while (!(await page.evaluate(expr))) {
        if (Date.now() > deadline) throw new Error(`page never satisfied: ${expr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await until('window.__percept.sources.dog?.frames >= 2', 20_000);
    const first = await state();
    await page.waitForTimeout(1000);
    const later = await state();
    assert.ok(later.frames > first.frames + 3, `frame counter rises (${first.frames} -> ${later.frames})`);
    assert.equal(later.connected, true);

    const dog = must(later.sources.dog, 'the dog tile');
    assert.deepEqual(dog.boxes.map((b) => b.label).sort(), ['bicycle', 'car', 'dog']);
    const overlay = await page.evaluate<
      Array<{ label: string; confidence: number; w: number; h: number }>
    >(`[...document.querySelectorAll('[data-source="dog"] .overlay .box')].map((e) => {
      const r = e.getBoundingClientRect();
      return { label: e.dataset.label, confidence: Number(e.dataset.confidence), w: r.width, h: r.height };
    })`);
    assert.equal(overlay.length, 3, 'three boxes drawn');
    assert.deepEqual(overlay.map((b) => b.label).sort(), ['bicycle', 'car', 'dog']);
    for (const b of overlay) {
      assert.ok(b.confidence > 0.5 && b.confidence <= 1, `${b.label} confidence ${b.confidence}`);
      assert.ok(b.w > 20 && b.h > 20, `${b.label} box is drawn with a size (${b.w}x${b.h})`);
    }
    // The dog's box sits in the left half of the picture (reference box x 133-323 of 768).
    const dogBox = dog.boxes.find((b) => b.label === 'dog')!;
    assert.ok(at(dogBox.box, 0) > 0.1 && at(dogBox.box, 2) < 0.5, `dog box ${dogBox.box.join(',')}`);
    const listed = await page.evaluate<Array<string | null>>(`[...document.querySelectorAll('[data-source="dog"] .dets li')].map((e) => e.textContent)`);
    for (const label of ['dog', 'bicycle', 'car'])
      assert.ok(
        listed.some((t) => t?.startsWith(label) && /\d+%$/.test(t)),
        `${label} listed with its confidence: ${listed.join(' | ')}`,
      );

    // The PNG source arrives through the transcoder on its own tile.
    await until('window.__percept.sources.cat?.frames >= 1', 10_000);
    assert.ok(
      must((await state()).sources.cat, 'the cat tile').boxes.some((b) => b.label === 'cat'),
      'a cat on the second tile',
    );

    // The side panel got the status: model, provider, hub, fps.
    await until(`/yolox/i.test(document.getElementById('model')?.textContent ?? '')`, 5_000);
    assert.match((await page.textContent('#provider')) ?? '', /cpu/);
    assert.equal((await page.textContent('#hub'))?.trim(), 'hub: not configured');
    assert.match((await page.textContent('#fps')) ?? '', /^\d+\.\d\s*fps$/);
    await page.waitForTimeout(2500); // a few status ticks for the sparklines

    const dir = path.join(ROOT, 'test-artifacts');
    fs.mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, 'preview-page.png') });
    assert.deepEqual(errors, [], 'no script errors on the page');

    // Beyond loopback the page takes the token from its own address for its event stream.
    guarded = await startPreview({
      host: '0.0.0.0',
      port: 0,
      token: 'browser-token-0123456789',
      maxFps: 10,
      logger,
      pipeline,
      status: statusGetter(() => pipeline),
    });
    const tokenPage = await browser.newPage();
    assert.equal((await tokenPage.goto(`http://127.0.0.1:${guarded.port}/?token=browser-token-0123456789`))?.status(), 200);
    const deadline = Date.now() + 10_000;
    while (!(await tokenPage.evaluate('window.__percept.frames >= 2'))) {
      assert.ok(Date.now() < deadline, 'frames on the token-guarded page');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(!(await tokenPage.content()).includes('browser-token-0123456789'), 'the token is not written into the document');
  } finally {
    await browser?.close();
    await guarded?.close();
    await preview.close();
    await pipeline.stop();
  }
});
