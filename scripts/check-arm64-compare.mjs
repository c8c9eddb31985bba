#!/usr/bin/env node
// Compares two `percept run --output jsonl` runs frame by frame (matched by file name), both
// ways: every x64 frame has its arm64 counterpart and no arm64 frame lacks an x64 one (nor
// comes twice), with the same labels, each box overlapping its counterpart with IoU >= 0.98.
// Prints "N/N frames match x64" and exits 0, or names the differences and exits 1.
// Usage: node scripts/check-arm64-compare.mjs <x64.jsonl> <arm64.jsonl> <frames>
import fs from 'node:fs';
import path from 'node:path';

const [refFile, gotFile, framesArg] = process.argv.slice(2);
const want = Number(framesArg);
const MIN_IOU = 0.98;

/** Frames by file name; a name that comes more than once is counted in `dupes`. */
function frames(file) {
  const out = new Map();
  out.dupes = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const r = JSON.parse(line);
    if (!Array.isArray(r.detections)) continue;
    // Pixel boxes from the normalised ones: the rounding of `box` would cost IoU on small boxes.
    const dets = r.detections.map((d) => ({
      label: d.label,
      box: [d.boxNorm[0] * r.width, d.boxNorm[1] * r.height, d.boxNorm[2] * r.width, d.boxNorm[3] * r.height],
    }));
    const name = path.basename(String(r.source));
    if (out.has(name)) out.dupes.push(name);
    out.set(name, dets);
  }
  return out;
}

function iou(a, b) {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : a.every((v, i) => v === b[i]) ? 1 : 0;
}

/** Why two frames differ, or null when every detection has its counterpart. */
function difference(ref, got) {
  if (ref.length !== got.length) return `${got.length} detections instead of ${ref.length}`;
  const left = [...got];
  for (const d of ref) {
    let best = -1;
    let bestIou = -1;
    left.forEach((g, i) => {
      if (g.label !== d.label) return;
      const v = iou(d.box, g.box);
      if (v > bestIou) [best, bestIou] = [i, v];
    });
    if (best < 0) return `no '${d.label}' detection`;
    if (bestIou < MIN_IOU) return `'${d.label}' box IoU ${bestIou.toFixed(4)} < ${MIN_IOU}`;
    left.splice(best, 1);
  }
  return null;
}

const ref = frames(refFile);
const got = frames(gotFile);
let matched = 0;
const problems = [];
for (const [name, dets] of ref) {
  const other = got.get(name);
  const why = other ? difference(dets, other) : 'no arm64 result';
  if (why) problems.push(`${name}: ${why}`);
  else matched++;
}
for (const name of got.keys()) if (!ref.has(name)) problems.push(`${name}: an arm64 result with no x64 counterpart`);
for (const name of ref.dupes) problems.push(`${name}: more than one x64 result`);
for (const name of got.dupes) problems.push(`${name}: more than one arm64 result`);
if (ref.size !== want) problems.push(`the x64 run gave ${ref.size} frames, expected ${want}`);
if (got.size !== want) problems.push(`the arm64 run gave ${got.size} frames, expected ${want}`);
if (problems.length || matched !== want) {
  console.log(`${matched}/${want} frames match x64 (${problems.join('; ')})`);
  process.exit(1);
}
console.log(`${matched}/${want} frames match x64`);
