// Raw camera frames reach the model: a YUYV or NV12 frame of a photo (as a camera delivers it
// when it does not send MJPEG) gives YOLOX-Nano the same detections as the camera's JPEG of
// the same photo, through the real worker pool; a short raw frame is ERR_FRAME_CORRUPT; a frame
// in larger memory that its source takes back (Frame.release) is read to its length and its
// memory returns.
import test from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { InferencePool } from '../../src/inference/pool.js';
import { loadModel } from '../../src/pipeline/model.js';
import { iou } from '../../src/models/nms.js';
import { PerceptError } from '../../src/errors.js';
import { image, YOLOX_NANO } from '../helpers/paths.js';
import type { Frame, FrameFormat, Detection } from '../../src/types.js';
import { at as itemAt } from '../helpers/at.js';

const W = 1280;
const H = 720;
// The camera's JPEG of the scene, and the pixels it holds: what a YUYV/NV12 camera would see.
const jpeg = await sharp(image('dog.jpg')).resize(W, H, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer();
const rgb = await sharp(jpeg).raw().toBuffer();

/** BT.601 full range, chroma averaged over each 2x1 (YUYV) or 2x2 (NV12) block, as a sensor subsamples. */
function yuv(x: number, y: number): [number, number, number] {
  const i = (y * W + x) * 3;
  const [r, g, b] = [itemAt(rgb, i), itemAt(rgb, i + 1), itemAt(rgb, i + 2)];
  return [0.299 * r + 0.587 * g + 0.114 * b, -0.168736 * r - 0.331264 * g + 0.5 * b + 128, 0.5 * r - 0.418688 * g - 0.081312 * b + 128];
}
const byte = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

function toYuyv(): Buffer {
  const out = Buffer.alloc(W * H * 2);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x += 2) {
      const [y0, u0, v0] = yuv(x, y);
      const [y1, u1, v1] = yuv(x + 1, y);
      out.set([byte(y0), byte((u0 + u1) / 2), byte(y1), byte((v0 + v1) / 2)], (y * W + x) * 2);
    }
  }
  return out;
}

function toNv12(): Buffer {
  const out = Buffer.alloc(W * H + (H / 2) * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[y * W + x] = byte(yuv(x, y)[0]);
  for (let y = 0; y < H; y += 2) {
    for (let x = 0; x < W; x += 2) {
      const px = [yuv(x, y), yuv(x + 1, y), yuv(x, y + 1), yuv(x + 1, y + 1)];
      const o = W * H + (y / 2) * W + x;
      out[o] = byte(px.reduce((a, p) => a + p[1], 0) / 4);
      out[o + 1] = byte(px.reduce((a, p) => a + p[2], 0) / 4);
    }
  }
  return out;
}

let seq = 0;
const frame = (format: FrameFormat, data: Buffer): Frame => ({ source: 'cam', seq: ++seq, capturedAt: Date.now(), width: W, height: H, format, data });

function assertSame(raw: Detection[], ref: Detection[], what: string): void {
  assert.ok(ref.length >= 3, `the photo gives clear detections: ${ref.map((d) => d.label).join(', ')}`);
  assert.equal(raw.length, ref.length, `${what}: ${raw.map((d) => d.label).join(', ')} vs ${ref.map((d) => d.label).join(', ')}`);
  for (const d of ref) {
    const best = Math.max(...raw.filter((r) => r.label === d.label).map((r) => iou(r.box, d.box)));
    assert.ok(best >= 0.9, `${what}: ${d.label} at IoU ${best.toFixed(3)}`);
  }
}

test('YUYV and NV12 frames of a photo give the detections of its JPEG (IoU >= 0.9)', { timeout: 120_000 }, async () => {
  const model = await loadModel({ name: 'yolox-nano', path: YOLOX_NANO });
  const pool = await InferencePool.start({ manifest: model.manifest, modelPath: model.path, workers: 1, threads: 1, providers: ['cpu'] });
  try {
    const ref = await pool.run(frame('jpeg', jpeg));
    const fromYuyv = await pool.run(frame('yuyv', toYuyv()));
    const fromNv12 = await pool.run(frame('nv12', toNv12()));
    assert.deepEqual([fromYuyv.width, fromYuyv.height, fromNv12.width, fromNv12.height], [W, H, W, H]);
    assertSame(fromYuyv.detections, ref.detections, 'yuyv');
    assertSame(fromNv12.detections, ref.detections, 'nv12');
    // A frame cut short (a driver's partial buffer) is refused, not read past its end.
    await assert.rejects(
      pool.run(frame('yuyv', toYuyv().subarray(0, W * 100))),
      (e: unknown) => PerceptError.is(e, 'ERR_FRAME_CORRUPT') && /needs 1843200 bytes/.test((e as Error).message),
    );
  } finally {
    await pool.close();
  }
});

test("a frame at the start of larger memory (a camera's recycled buffer) is read to its length, and the memory comes back", { timeout: 120_000 }, async () => {
  const model = await loadModel({ name: 'yolox-nano', path: YOLOX_NANO });
  const pool = await InferencePool.start({ manifest: model.manifest, modelPath: model.path, workers: 1, threads: 1, providers: ['cpu'] });
  const back: ArrayBuffer[] = [];
  const inMemory = (format: FrameFormat, bytes: Buffer, capacity: number): Frame => {
    const memory = new ArrayBuffer(capacity);
    bytes.copy(Buffer.from(memory));
    return { ...frame(format, Buffer.from(memory, 0, bytes.length)), release: (m) => back.push(m) };
  };
  try {
    const ref = await pool.run(frame('jpeg', jpeg));
    const nv12 = toNv12();
    const f = inMemory('nv12', nv12, nv12.length + 65536);
    assertSame((await pool.run(f)).detections, ref.detections, 'nv12 in larger memory');
    assert.equal(f.data.buffer.byteLength, 0, 'the memory went to the worker (transferred), not a copy');
    assert.deepEqual(
      back.map((m) => m.byteLength),
      [nv12.length + 65536],
      'and came back whole',
    );
    // Read to its length: the bytes after it (a whole frame's worth here) are not the frame's.
    const short = inMemory('yuyv', toYuyv().subarray(0, W * 100), W * H * 2);
    await assert.rejects(pool.run(short), (e: unknown) => PerceptError.is(e, 'ERR_FRAME_CORRUPT') && /got 128000/.test((e as Error).message));
    assert.equal(back.length, 2, 'a failed frame gives its memory back too');
    // A frame with no way back for its memory keeps the old rule: its exact bytes are copied.
    const plain = frame('nv12', Buffer.from(new ArrayBuffer(nv12.length + 16), 0, nv12.length));
    nv12.copy(plain.data);
    await pool.run(plain);
    assert.equal(plain.data.buffer.byteLength, nv12.length + 16, 'copied, not taken');
    assert.equal(back.length, 2);
  } finally {
    await pool.close();
  }
});
