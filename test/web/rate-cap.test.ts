// Pictures reach clients at no more than maxFps per source, even when the pipeline infers
// faster, and a plain HTTP client gets well-formed multipart MJPEG.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startPreview } from '../../src/web/index.js';
import { image } from '../helpers/paths.js';
import { memoryLogger, startPipeline, statusGetter, streamFor, sleep } from './helpers.js';

test('the MJPEG stream is capped at maxFps while inference runs faster', { timeout: 30_000 }, async () => {
  const { logger } = memoryLogger('info');
  // No fps: a looping still is as fast as the pool takes it.
  const pipeline = await startPipeline([{ id: 'dog', kind: 'image', uri: image('dog.jpg'), loop: true }], 2);
  const preview = await startPreview({ host: '127.0.0.1', port: 0, maxFps: 4, logger, pipeline, status: statusGetter(() => pipeline) });
  try {
    await sleep(500);
    const before = pipeline.status().frames.inferred;
    const r = await streamFor(preview.port, '/stream?source=dog', 2500);
    const inferred = pipeline.status().frames.inferred - before;
    assert.equal(r.status, 200);
    const boundary = /boundary=(\S+)/.exec(String(r.headers['content-type']))?.[1];
    assert.ok(boundary, `multipart content type: ${r.headers['content-type']}`);
    const parts = r.data.toString('latin1').split(`--${boundary}\r\n`).slice(1);
    // 2.5 s at 4 fps, with a frame of slack at each end.
    assert.ok(parts.length >= 7 && parts.length <= 12, `${parts.length} pictures in 2.5 s at maxFps 4`);
    assert.ok(inferred > parts.length * 1.5, `inference ran faster (${inferred} results) than the stream (${parts.length})`);
    for (const p of parts.slice(0, -1)) {
      const m = /^Content-Type: image\/jpeg\r\nContent-Length: (\d+)\r\n\r\n/.exec(p);
      assert.ok(m, 'part headers');
      const body = Buffer.from(p.slice(m[0].length), 'latin1');
      assert.equal(body.length, Number(m[1]) + 2, 'length matches, then CRLF');
      assert.equal(body.readUInt16BE(0), 0xffd8, 'a JPEG');
    }
    // A source that does not exist gets a stream with no pictures, not someone else's.
    const other = await streamFor(preview.port, '/stream?source=nope', 600);
    assert.equal(other.status, 200);
    assert.equal(other.data.length, 0);
  } finally {
    await preview.close();
    await pipeline.stop();
  }
});
