// hub.connectTimeoutMs (--connect-timeout): a hub that accepts the TCP connection but never
// answers (a black hole on a NAT or a stuck gateway) is given up on after that long and retried,
// rather than after the fixed 30 s it used to be.
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

test('--connect-timeout bounds each connection attempt to a hub that never answers', async () => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => sockets.add(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as net.AddressInfo;
  const cs = `HostName=127.0.0.1:${port};DeviceId=d;SharedAccessKey=a2V5`;
  const p = startCli([
    'run',
    '--source',
    'synthetic',
    '--no-preview',
    '--output',
    'none',
    '--connection-string',
    cs,
    '--connect-timeout',
    '1000',
    '--state-dir',
    tempDir(),
  ]);
  try {
    // Two attempts given up within 10 s: the default (30 s) could not give even one.
    const twice = await p.waitFor((c) => c.stderr.split('no answer from the hub within 1000 ms').length > 2, 10_000);
    assert.ok(twice, p.stderr);
  } finally {
    p.killGroup();
    await p.done;
    for (const s of sockets) s.destroy();
    silent.close();
  }
});
