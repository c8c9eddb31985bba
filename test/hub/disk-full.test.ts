// A full disk under the outbox: drop-oldest replaces the oldest, refuse-new stops accepting; each
// drop is counted (disk_full), nothing crashes, delivery resumes when space returns. The disk is a
// 16 MiB tmpfs filled to ENOSPC where mounting works (root), else SQLite's page limit; it says which.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startTestHub } from '../helpers/emulator.js';
import { message, startDelivery, waitFor } from '../helpers/delivery.js';
import { account, summary } from '../helpers/ledger.js';
import { tempDir } from '../helpers/paths.js';
import type { WhenFull } from '../../src/hub/outbox.js';

type Disk = { mode: 'tmpfs' | 'page-limit'; dir: string; fill(): void; free(): void; done(): void };

function makeDisk(): Disk {
  const dir = tempDir('percept-disk-');
  // PERCEPT_TEST_NO_TMPFS=1 forces the page-limit fallback (to check it where tmpfs works).
  const mounted =
    process.platform === 'linux' &&
    !process.env.PERCEPT_TEST_NO_TMPFS &&
    spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir], { stdio: 'ignore' }).status === 0;
  const filler = path.join(dir, 'filler');
  return {
    mode: mounted ? 'tmpfs' : 'page-limit',
    dir,
    fill() {
      // Write until the file system says ENOSPC, in smaller and smaller pieces: truly full.
      const fd = fs.openSync(filler, 'w');
      for (const size of [1 << 20, 1 << 16, 1 << 12, 512]) {
        const chunk = Buffer.alloc(size, 1);
        try {
          for (;;) fs.writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
        }
      }
      fs.closeSync(fd);
    },
    free() {
      fs.rmSync(filler, { force: true });
    },
    done() {
      if (mounted) spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
    },
  };
}

async function fullDisk(policy: WhenFull, t: test.TestContext): Promise<void> {
  const hub = await startTestHub();
  const disk = makeDisk();
  t.diagnostic(`full disk simulated by: ${disk.mode === 'tmpfs' ? 'a 16 MiB tmpfs filled to ENOSPC' : "SQLite's page limit (tmpfs could not be mounted)"}`);
  const d = startDelivery(hub, { file: path.join(disk.dir, 'outbox.db'), connect: false, outbox: { whenFull: policy } });
  try {
    for (let i = 0; i < 200; i++) assert.ok(await d.put(message(i)));
    if (disk.mode === 'tmpfs') disk.fill();
    else d.outbox.setPageLimit(1);
    const before = d.outbox.stats().accepted;
    let acceptedWhileFull = 0;
    let acceptedAfterRefusal = 0;
    for (let i = 200; i < 500; i++) {
      const ok = await d.put(message(i));
      if (ok) acceptedWhileFull++;
      if (ok && d.refused > 0) acceptedAfterRefusal++;
    }
    const full = d.outbox.stats();
    t.diagnostic(
      JSON.stringify({ policy, acceptedBeforeFull: before, acceptedWhileFull, refused: d.refused, depthWhileFull: full.depth, dropped: full.dropped }),
    );
    assert.ok(d.outbox.diskFull, 'the outbox knows the disk is full');
    if (policy === 'drop-oldest') {
      assert.equal(d.refused, 0, 'drop-oldest keeps accepting');
      assert.ok(full.dropped.disk_full > 0, 'oldest dropped and counted');
      assert.equal(full.depth, 500 - full.dropped.disk_full);
    } else {
      assert.ok(d.refused > 0, 'refuse-new stops accepting');
      assert.equal(acceptedAfterRefusal, 0, 'and keeps refusing while the disk is full');
      assert.equal(full.dropped.disk_full, d.refused, 'every refusal counted');
      assert.equal(full.depth, full.accepted, 'nothing accepted was dropped');
    }
    // Space returns, the hub is reachable: delivery resumes and new messages are accepted.
    if (disk.mode === 'tmpfs') disk.free();
    else d.outbox.setPageLimit(1_000_000);
    void d.link.open();
    await waitFor('connected', () => d.link.ready);
    // The outbox probes for space about once a second.
    const refusedBefore = d.refused;
    const back = Date.now();
    while (!(await d.put(message(500)))) {
      assert.ok(Date.now() - back < 5000, 'accepting again within seconds of space returning');
      await new Promise((r) => setTimeout(r, 100));
    }
    const refusedAfterSpaceReturned = d.refused - refusedBefore;
    for (let i = 501; i < 550; i++) {
      assert.ok(await d.put(message(i)), 'accepted once space returned');
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor('outbox drained', () => d.outbox.stats().depth === 0, 30_000);
    assert.ok(!d.outbox.diskFull, 'the outbox saw the space return');
    const s = d.sender.stats();
    // Drop-oldest drops from the front while nothing is delivered: seqs 1..k.
    const boot = d.writer.boot;
    const dropped = new Set(Array.from({ length: full.dropped.disk_full }, (_, k) => `${boot}:${k + 1}`));
    const a = account(hub.hub.messages(hub.deviceId), d.accepted, policy === 'drop-oldest' ? dropped : new Set());
    t.diagnostic(
      summary(a, {
        policy,
        sent: s.sent,
        acknowledged: s.acknowledged,
        droppedDiskFull: full.dropped.disk_full,
        refused: d.refused,
        refusedAfterSpaceReturned,
      }),
    );
    assert.equal(a.lost, 0, `lost: ${a.missing.join(', ')}`);
    assert.equal(a.outOfOrder, 0);
    assert.equal(a.unique, d.outbox.stats().accepted - (policy === 'drop-oldest' ? full.dropped.disk_full : 0));
  } finally {
    await d.close();
    await hub.close();
    disk.done();
  }
}

test('full disk, drop-oldest: the oldest make room, counted; delivery resumes', { timeout: 120_000 }, (t) => fullDisk('drop-oldest', t));
test('full disk, refuse-new: acceptance stops, counted; delivery resumes', { timeout: 120_000 }, (t) => fullDisk('refuse-new', t));
