// Viewers that stop reading cannot lock the preview: with every slot held by MJPEG connections
// that never read (raw sockets, nothing consumed), a new viewer is turned away at first, then
// gets a stream once their full sockets have not drained for STALL_MS; a viewer that reads stays.
import net from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPreview } from '../../src/web/index.js';
import { STALL_MS } from '../../src/web/stream.js';
import { memoryLogger, sleep, startPipeline, statusGetter, streamFor, waitFor } from './helpers.js';

/** An MJPEG request on a socket that never reads its answer: the kernel buffers fill, then the server's. */
function deafViewer(port: number): net.Socket {
  const s = net.connect({ host: '127.0.0.1', port });
  s.pause();
  s.on('error', () => {});
  s.write(`GET /stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  return s;
}

const hasFrame = (b: Buffer) => b.includes('Content-Type: image/jpeg') && b.includes(Buffer.from([0xff, 0xd9]));

test('16 viewers that stop reading are evicted and a new viewer gets a stream', { timeout: 60_000 }, async () => {
  const { logger, text } = memoryLogger('info');
  const pipeline = await startPipeline();
  const preview = await startPreview({ host: '127.0.0.1', port: 0, maxFps: 10, logger, pipeline, status: statusGetter(() => pipeline) });
  const deaf: net.Socket[] = [];
  try {
    const port = preview.port;
    // one viewer that keeps reading for the whole test, and fifteen that never read
    let readerBytes = 0;
    let readerDone = false;
    const reader = streamFor(port, '/stream', STALL_MS * 4, (b) => ((readerBytes = b.length), readerDone));
    for (let i = 0; i < 15; i++) deaf.push(deafViewer(port));

    const refused = await streamFor(port, '/stream', 5000, hasFrame);
    assert.equal(refused.status, 503, 'all sixteen slots are taken');

    // a bounded wait: the stalled ones are cut STALL_MS after their sockets filled, checked each second
    const deadline = Date.now() + STALL_MS * 3;
    let got: Awaited<ReturnType<typeof streamFor>> | null = null;
    while (Date.now() < deadline) {
      const r = await streamFor(port, '/stream', 3000, hasFrame);
      if (r.status === 200 && hasFrame(r.data)) {
        got = r;
        break;
      }
      await sleep(500);
    }
    assert.ok(got, `no new viewer got a stream within ${STALL_MS * 3} ms`);
    // a socket that does not read does not see its end either: count the evictions server-side
    const evicted = () => text().match(/preview client stopped reading: disconnected/g)?.length ?? 0;
    await waitFor(() => evicted() === 15, STALL_MS * 2, 'all fifteen silent viewers to be evicted');

    const before = readerBytes;
    await waitFor(() => readerBytes > before, 5000, 'the reading viewer to receive more frames');
    readerDone = true;
    const r = await reader;
    assert.equal(r.status, 200);
    assert.ok(hasFrame(r.data));
  } finally {
    for (const s of deaf) s.destroy();
    await preview.close();
    await pipeline.stop();
  }
});
