// MJPEG through the native addon: 20 frames at 1280x720 are the photos' JPEG files; frames
// that arrive without Huffman tables (as many UVC cameras send them) get the standard ones.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import sharp from 'sharp';
import { tempDir } from '../helpers/paths.js';
import { frameFiles, makeFrames, runFake } from './v4l2-harness.js';
import { at } from '../helpers/at.js';

interface HuffmanTable {
  tableClass: number;
  id: number;
  bits: number[];
  values: number[];
}

/** The Huffman tables a JPEG defines before its scan, in a stable order. */
function huffmanTables(jpeg: Buffer): HuffmanTable[] {
  const tables: HuffmanTable[] = [];
  let i = 2;
  while (i + 4 <= jpeg.length && jpeg[i] === 0xff && jpeg[i + 1] !== 0xda) {
    const len = jpeg.readUInt16BE(i + 2);
    if (jpeg[i + 1] === 0xc4) {
      let p = i + 4;
      while (p < i + 2 + len) {
        const bits = [...jpeg.subarray(p + 1, p + 17)];
        const n = bits.reduce((a, b) => a + b, 0);
        tables.push({ tableClass: at(jpeg, p) >> 4, id: at(jpeg, p) & 15, bits, values: [...jpeg.subarray(p + 17, p + 17 + n)] });
        p += 17 + n;
      }
    }
    i += 2 + len;
  }
  return tables.sort((a, b) => a.tableClass - b.tableClass || a.id - b.id);
}

async function pixels(jpeg: Buffer): Promise<Buffer> {
  return sharp(jpeg, { failOn: 'warning' }).raw().toBuffer();
}

test("20 MJPEG frames at 1280x720 are the folder's JPEG files, in order, each decodable", async () => {
  const frames = await makeFrames();
  const files = frameFiles(frames);
  const saveDir = tempDir();
  const r = await runFake('stream', { open: { format: 'mjpeg', width: 1280, height: 720, fps: 30 }, count: 20, saveDir }, { FAKE_V4L2_FRAMES: frames });
  assert.equal(r.openError, null);
  assert.deepEqual(r.info, { format: 'mjpeg', fourcc: 'MJPG', width: 1280, height: 720, stride: 0, sizeImage: 1280 * 720 * 2, fps: 30, buffers: 4 });
  assert.equal(r.frames.length, 20);
  for (const f of r.frames) {
    const data = fs.readFileSync(f.file!);
    assert.equal(f.huffmanInserted, false, 'these frames carry their own tables');
    assert.ok(data.equals(at(files, f.sequence % files.length)), `frame ${f.sequence} is photo ${f.sequence % files.length}`);
    const meta = await sharp(data).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 1280, 720]);
    await pixels(data);
  }
  assert.equal(r.error, null);
});

test('MJPEG frames without Huffman tables get the standard ones (T.81 Annex K) and decode to the same pixels', async () => {
  const frames = await makeFrames();
  const files = frameFiles(frames);
  const env = { FAKE_V4L2_FRAMES: frames, FAKE_V4L2_STRIP_DHT: '1' };
  const open = { format: 'mjpeg', width: 1280, height: 720, fps: 30 };

  // What the camera sends: the fault mode really strips the tables.
  const rawDir = tempDir();
  const raw = await runFake('stream', { open: { ...open, fixHuffman: false }, count: 3, saveDir: rawDir }, env);
  for (const f of raw.frames) {
    assert.equal(f.huffmanInserted, false);
    assert.deepEqual(huffmanTables(fs.readFileSync(f.file!)), [], 'the camera frame has no DHT');
  }

  const dir = tempDir();
  const r = await runFake('stream', { open, count: 6, saveDir: dir }, env);
  assert.equal(r.frames.length, 6);
  for (const f of r.frames) {
    const fixed = fs.readFileSync(f.file!);
    const original = at(files, f.sequence % files.length);
    assert.equal(f.huffmanInserted, true);
    // libjpeg wrote the originals with its standard tables (optimiseCoding off): an
    // independent copy of Annex K to compare with.
    assert.deepEqual(huffmanTables(fixed), huffmanTables(original));
    assert.equal(huffmanTables(fixed).length, 4);
    assert.ok((await pixels(fixed)).equals(await pixels(original)), `frame ${f.sequence} decodes to the photo's pixels`);
  }
});
