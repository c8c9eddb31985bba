// `percept start`'s emulator child takes the usual ports when they look free, and free ones
// when they are not; two starting at once both see the usual ports free, and the one that
// loses the race for them must still start, on free ports (seen as PortInUse in CI, when two
// `percept start` tests ran side by side).
import test from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { startHub } from '../../src/emulator/local.js';
import { tempDir } from '../helpers/paths.js';

test('two emulators started at once both come up, on different ports', { timeout: 60_000 }, async () => {
  const children: ChildProcess[] = [];
  try {
    // The second checks the ports once the first has checked them, before its child binds them.
    const first = startHub(tempDir(), (c) => children.push(c));
    await new Promise((r) => setTimeout(r, 50));
    const hubs = await Promise.all([first, startHub(tempDir(), (c) => children.push(c))]);
    const [a, b] = hubs;
    assert.ok(a && b);
    assert.notEqual(a.mqtt, b.mqtt);
    assert.notEqual(a.api, b.api);
    for (const h of hubs) assert.equal(h.child.exitCode, null, 'both still run');
  } finally {
    for (const c of children) {
      // Each hub is its own process group (detached).
      if (c.pid && c.exitCode === null) {
        try {
          process.kill(-c.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
  }
});
