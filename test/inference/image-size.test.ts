// The header size reader agrees with sharp on real JPEG and PNG files (baseline and
// progressive), and gives up (null) on anything else so sharp decides.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import sharp from 'sharp';
import { imageSize } from '../../src/inference/image-size.js';
import { SHARED_IMAGES } from '../helpers/paths.js';

test('header sizes match sharp; garbage gives null', async () => {
  for (const name of fs.readdirSync(SHARED_IMAGES)) {
    const data = fs.readFileSync(`${SHARED_IMAGES}/${name}`);
    const meta = await sharp(data).metadata();
    assert.deepEqual(imageSize(data), { width: meta.width, height: meta.height }, name);
  }
  const progressive = await sharp(`${SHARED_IMAGES}/dog.jpg`).resize(321, 123, { fit: 'fill' }).jpeg({ progressive: true }).toBuffer();
  assert.deepEqual(imageSize(progressive), { width: 321, height: 123 });
  assert.equal(imageSize(Buffer.from('\xff\xd8 not a jpeg', 'latin1')), null);
  assert.equal(imageSize(Buffer.from('GIF89a')), null);
  assert.equal(imageSize(Buffer.alloc(0)), null);
});
