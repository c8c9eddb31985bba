// The model package reader against hostile zips: each refusal has its own code, nothing is
// written outside the destination, and a well-formed package unpacks byte for byte.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { unzip } from '../../src/models/unzip.js';
import { writeZip, type ZipEntryInput } from '../../src/models/zip-write.js';
import { PerceptError, type ErrorCode } from '../../src/errors.js';
import { tempDir } from '../helpers/paths.js';

const MiB = 1024 * 1024;
const base = tempDir('percept-unzip-');
/** A fresh folder under one temporary root (removed at exit). */
const fresh = () => fs.mkdtempSync(path.join(base, 'd'));

function zipFile(entries: ZipEntryInput[] | Buffer): string {
  const f = path.join(fresh(), 'pkg.zip');
  fs.writeFileSync(f, Buffer.isBuffer(entries) ? entries : writeZip(entries));
  return f;
}

async function refused(entries: ZipEntryInput[] | Buffer, code: ErrorCode, opts: { maxBytes?: number } = {}): Promise<{ dest: string; message: string }> {
  const root = fresh();
  const dest = path.join(root, 'out');
  const err = await unzip(zipFile(entries), dest, { maxBytes: opts.maxBytes ?? 10 * MiB }).then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => e,
  );
  assert.ok(PerceptError.is(err), String(err));
  assert.equal(err.code, code, err.message);
  // Nothing lands beside the destination folder.
  assert.deepEqual(
    fs.readdirSync(root).filter((f) => f !== 'out'),
    [],
  );
  return { dest, message: err.message };
}

test('a well-formed package unpacks, stored and deflated, with folders', async () => {
  const dest = path.join(fresh(), 'out');
  const onnx = Buffer.from([0x08, 0x07, ...Buffer.alloc(5000, 3)]);
  const files = await unzip(
    zipFile([
      { name: 'percept-model.json', data: Buffer.from('{}') },
      { name: 'sub/', data: Buffer.alloc(0), mode: 0o040755 },
      { name: 'sub/m.onnx', data: onnx, method: 'store' },
    ]),
    dest,
    { maxBytes: MiB },
  );
  assert.deepEqual(files, [
    { name: 'percept-model.json', size: 2 },
    { name: 'sub/m.onnx', size: onnx.length },
  ]);
  assert.deepEqual(fs.readFileSync(path.join(dest, 'sub/m.onnx')), onnx);
});

test('absolute paths and .. segments are refused (zip-slip)', async () => {
  for (const name of ['/tmp/evil.onnx', '../evil.onnx', 'a/../../evil.onnx', 'C:/evil.onnx', '..\\evil.onnx']) {
    const { message } = await refused(
      [
        { name: 'ok.txt', data: Buffer.from('x') },
        { name, data: Buffer.from('x') },
      ],
      'ERR_PACKAGE_PATH',
    );
    assert.match(message, /relative paths/);
  }
});

test('symbolic links and other special entries are refused', async () => {
  const { message } = await refused([{ name: 'model.onnx', data: Buffer.from('/etc/shadow'), mode: 0o120777 }], 'ERR_PACKAGE_ENTRY_TYPE');
  assert.match(message, /symbolic link/);
  await refused([{ name: 'fifo', data: Buffer.alloc(0), mode: 0o010644 }], 'ERR_PACKAGE_ENTRY_TYPE');
  await refused([{ name: 'dev', data: Buffer.alloc(0), mode: 0o020644 }], 'ERR_PACKAGE_ENTRY_TYPE');
});

test('duplicate names are refused, also when they differ only in case', async () => {
  await refused(
    [
      { name: 'a.onnx', data: Buffer.from('1') },
      { name: 'a.onnx', data: Buffer.from('2') },
    ],
    'ERR_PACKAGE_DUPLICATE',
  );
  await refused(
    [
      { name: 'A.onnx', data: Buffer.from('1') },
      { name: 'a.onnx', data: Buffer.from('2') },
    ],
    'ERR_PACKAGE_DUPLICATE',
  );
});

test('more than 64 entries are refused before any is written', async () => {
  const many = Array.from({ length: 65 }, (_, i) => ({ name: `f${i}`, data: Buffer.from('x') }));
  const { dest } = await refused(many, 'ERR_PACKAGE_TOO_MANY_ENTRIES');
  assert.equal(fs.existsSync(dest), false);
  const dest64 = path.join(fresh(), 'out');
  assert.equal((await unzip(zipFile(many.slice(0, 64)), dest64, { maxBytes: MiB })).length, 64);
});

test('more than maxBytes uncompressed is refused', async () => {
  const rnd = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919 + (i >> 3)) & 0xff));
  await refused(
    [
      { name: 'a', data: rnd(600_000), method: 'store' },
      { name: 'b', data: rnd(600_000), method: 'store' },
    ],
    'ERR_PACKAGE_TOO_LARGE',
    { maxBytes: MiB },
  );
});

test('a zip bomb (ratio over 100) is refused', async () => {
  const { dest } = await refused([{ name: 'model.onnx', data: Buffer.alloc(20 * MiB) }], 'ERR_PACKAGE_BOMB', { maxBytes: 100 * MiB });
  assert.equal(fs.existsSync(path.join(dest, 'model.onnx')), false);
});

test('an entry whose header understates its size stops at the stated size', async () => {
  // The central directory says 1000 bytes; the data inflates to 10 MiB.
  const zip = writeZip([{ name: 'model.onnx', data: Buffer.alloc(10 * MiB) }]);
  const cd = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  zip.writeUInt32LE(1000, cd + 24);
  const { dest } = await refused(zip, 'ERR_PACKAGE_CORRUPT', { maxBytes: 100 * MiB });
  const written = fs.existsSync(path.join(dest, 'model.onnx')) ? fs.statSync(path.join(dest, 'model.onnx')).size : 0;
  assert.ok(written <= 1000 * 100, `wrote ${written} bytes`);
});

test('a truncated zip and a corrupt entry are refused', async () => {
  const zip = writeZip([
    { name: 'model.onnx', data: Buffer.alloc(4000, 7) },
    { name: 'labels.txt', data: Buffer.from('a\nb\n') },
  ]);
  await refused(zip.subarray(0, zip.length - 30), 'ERR_PACKAGE_CORRUPT');
  await refused(zip.subarray(0, 40), 'ERR_PACKAGE_CORRUPT');
  const stored = writeZip([{ name: 'model.onnx', data: Buffer.from('abcdefgh'), method: 'store' }]);
  const dataByte = 30 + 'model.onnx'.length + 2; // one byte of the data: the CRC no longer fits
  stored.writeUInt8(stored.readUInt8(dataByte) ^ 0xff, dataByte);
  const { message } = await refused(stored, 'ERR_PACKAGE_CORRUPT');
  assert.match(message, /CRC/);
});
