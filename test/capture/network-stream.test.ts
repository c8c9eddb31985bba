// A network stream read through ffmpeg, served by a real ffmpeg HTTP server on loopback:
// frames arrive; when the server dies the source restarts with backoff, and frames resume
// once the server is back.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { FfmpegSource } from '../../src/capture/ffmpeg.js';
import { freePort } from '../helpers/net.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function serve(port: number): ChildProcess {
  // ffmpeg as a one-client HTTP server of a multipart MJPEG stream, as many IP cameras serve.
  return spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25',
      '-c:v',
      'mjpeg',
      '-f',
      'mpjpeg',
      '-listen',
      '1',
      `http://127.0.0.1:${port}/live.mjpg`,
    ],
    { stdio: 'ignore' },
  );
}

async function frameWithin(src: FfmpegSource, ms: number): Promise<boolean> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(new Error('timeout')), ms);
  try {
    return (await src.next(ac.signal)) !== null;
  } catch {
    return false;
  } finally {
    clearTimeout(t);
  }
}

test('a network stream delivers frames, survives its server dying, and resumes', async () => {
  const port = await freePort();
  let server = serve(port);
  const open = async (): Promise<FfmpegSource> => {
    // A stream never reached fails its open; wait (opening again) until the server listens.
    for (let i = 0; ; i++) {
      const s = new FfmpegSource({ id: 'net', kind: 'rtsp', uri: `http://127.0.0.1:${port}/live.mjpg`, loop: false }, { backoffMs: [100, 400], stallMs: 3000 });
      try {
        await s.open();
        return s;
      } catch (e) {
        if (i >= 50 || !/connection refused/.test((e as Error).message)) throw e;
        await sleep(200);
      }
    }
  };
  const src = await open();
  try {
    assert.ok(await frameWithin(src, 8000), 'frames from the live server');
    const before = src.stats.captured;
    server.kill('SIGKILL');
    await sleep(1500);
    assert.ok(src.stats.restarts >= 1, `restarted after the server died (${src.stats.restarts})`);
    server = serve(port);
    let resumed = false;
    for (let i = 0; i < 40 && !resumed; i++) {
      resumed = (await frameWithin(src, 500)) && src.stats.captured > before;
    }
    assert.ok(resumed, 'frames resume when the server is back');
    assert.equal(src.live, true);
  } finally {
    await src.close();
    server.kill('SIGKILL');
  }
});
