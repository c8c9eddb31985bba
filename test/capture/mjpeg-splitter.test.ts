// The MJPEG splitter cuts a byte stream into whole JPEGs whatever the chunking, and
// discards (and counts) bytes that are not inside a JPEG.
import test from 'node:test';
import assert from 'node:assert/strict';
import { MjpegSplitter } from '../../src/capture/mjpeg.js';
import { at } from '../helpers/at.js';

const jpeg = (n: number) => Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(n, n & 0x7f), Buffer.from([0xff, 0xd9])]);

test('frames survive any chunking, garbage is counted', () => {
  const frames = [jpeg(10), jpeg(300), jpeg(1)];
  const garbage = Buffer.from('xyz');
  const stream = Buffer.concat([garbage, at(frames, 0), at(frames, 1), garbage, at(frames, 2)]);
  for (const size of [1, 2, 3, 7, 64, stream.length]) {
    const s = new MjpegSplitter();
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i += size) out.push(...s.push(stream.subarray(i, i + size)));
    assert.deepEqual(out, frames, `chunk size ${size}`);
    assert.equal(s.garbage, 6, `chunk size ${size}`);
  }
});

test('an endless frame is dropped once it passes the size limit', () => {
  const s = new MjpegSplitter(100);
  assert.deepEqual(s.push(Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(200)])), []);
  assert.ok(s.garbage >= 200);
  assert.deepEqual(s.push(jpeg(5)), [jpeg(5)]);
});
