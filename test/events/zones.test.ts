// Zones and lines as pure functions: a zone takes 3 frames of inertia to enter or leave, judged
// by the bottom centre of the box; a line counts each crossing once, in its direction; an ended
// track leaves its zones.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ZoneBook, crossing, pointInPolygon } from '../../src/events/zones.js';
import type { Box } from '../../src/types.js';

const square = {
  name: 'sq',
  polygon: [
    [0.4, 0.4],
    [0.6, 0.4],
    [0.6, 0.6],
    [0.4, 0.6],
  ] as Array<[number, number]>,
};
/** A box whose bottom centre is (x, y). */
const standing = (x: number, y: number): Box => [x - 0.05, y - 0.2, x + 0.05, y];

test("points in polygons, and crossings in the line's own direction", () => {
  assert.equal(pointInPolygon([0.5, 0.5], square.polygon), true);
  assert.equal(pointInPolygon([0.7, 0.5], square.polygon), false);
  // Drawn upwards: its left is the image's left, so a step to the right is forward.
  const up: Array<[number, number]> = [
    [0.5, 1],
    [0.5, 0],
  ];
  assert.equal(crossing([0.4, 0.5], [0.6, 0.5], up), 'forward');
  assert.equal(crossing([0.6, 0.5], [0.4, 0.5], up), 'backward');
  assert.equal(crossing([0.4, 0.5], [0.45, 0.5], up), null);
  // Beyond the end of the segment is no crossing.
  assert.equal(
    crossing(
      [0.4, 0.5],
      [0.6, 0.5],
      [
        [0.5, 1],
        [0.5, 0.7],
      ],
    ),
    null,
  );
  // A polyline: the step crosses its second segment.
  assert.equal(
    crossing(
      [0.4, 0.2],
      [0.6, 0.2],
      [
        [0.5, 1],
        [0.5, 0.5],
        [0.5, 0],
      ],
    ),
    'forward',
  );
});

test('a zone is entered after 3 frames inside and left after 3 outside; a one-frame flicker changes nothing', () => {
  const zb = new ZoneBook('cam', [square], []);
  const at = (x: number, y: number, seen = true) => zb.step([{ id: 't', box: standing(x, y), seen }]).changed.has('t');
  assert.equal(at(0.5, 0.5), false);
  assert.equal(at(0.5, 0.5), false);
  assert.equal(at(0.5, 0.5), true, 'entered on the third frame inside');
  assert.deepEqual(zb.zonesOf('t'), ['sq']);
  assert.equal(at(0.8, 0.5), false);
  assert.equal(at(0.5, 0.5), false, 'back inside: the streak outside starts again');
  assert.equal(at(0.8, 0.5, false), false, 'a prediction (unseen) does not count');
  assert.equal(at(0.8, 0.5), false);
  assert.equal(at(0.8, 0.5), false);
  assert.equal(at(0.8, 0.5), true);
  assert.deepEqual(zb.zoneCounts(), [{ source: 'cam', zone: 'sq', entered: 1, exited: 1, present: 0 }]);
});

test('a line counts a track once per crossing; an ended track leaves its zones', () => {
  const zb = new ZoneBook(
    'cam',
    [square],
    [
      {
        name: 'gate',
        points: [
          [0.5, 1],
          [0.5, 0],
        ],
      },
    ],
  );
  for (const x of [0.42, 0.45, 0.48, 0.52, 0.55, 0.58]) zb.step([{ id: 't', box: standing(x, 0.5), seen: true }]);
  assert.deepEqual(zb.lineCounts(), [{ source: 'cam', line: 'gate', forward: 1, backward: 0 }]);
  assert.equal(zb.zoneCounts()[0]?.present, 1);
  zb.forget('t');
  assert.deepEqual(zb.zoneCounts(), [{ source: 'cam', zone: 'sq', entered: 1, exited: 1, present: 0 }]);
});
