// `percept hub` as a process: it prints the CA path and a connection string, `hub device add`
// (SAS or --x509) registers a device the running emulator accepts at once, SIGINT stops it
// cleanly; without a running emulator `device add` writes the registry and certificate itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { azureDevice, deviceClient, x509DeviceClient } from '../helpers/emulator.js';
import { ROOT, tempDir } from '../helpers/paths.js';
import { must } from '../helpers/at.js';

const MAIN = path.join(ROOT, 'dist', 'src', 'emulator', 'main.js');
const run = promisify(execFile);

test('hub runs in the foreground, accepts devices added while running, stops on SIGINT', { timeout: 30_000 }, async () => {
  const stateDir = tempDir('percept-hub-cli-');
  const child = spawn(process.execPath, [MAIN, '--state', stateDir, '--mqtt-port', '0', '--api-port', '0', '--ws-port', '0', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const ready = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => /DeviceId=percept;SharedAccessKey=\S+\n/.test(out) && resolve(out));
      child.once('exit', (code) => reject(new Error(`hub exited with ${code}: ${out}`)));
    });
    assert.match(ready, new RegExp(`CA certificate ${path.join(stateDir, 'ca.pem').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    // The banner speaks percept's language: the flag to pass, not an SDK call.
    assert.ok(ready.includes(`give percept the CA: --ca ${path.join(stateDir, 'ca.pem')}`), ready);
    const ports = JSON.parse(fs.readFileSync(path.join(stateDir, 'ports.json'), 'utf8')) as { mqtt: number; api: number; ws: number };
    assert.match(ready, new RegExp(`HostName=localhost:${ports.mqtt};DeviceId=percept;`));
    assert.ok(ports.ws > 0);
    assert.match(ready, new RegExp(`MQTT over WSS  wss://localhost:${ports.ws}/\\$iothub/websocket`));

    const added = await run(process.execPath, [MAIN, 'device', 'add', 'cam-2', '--state', stateDir]);
    const cs = added.stdout.trim();
    assert.match(cs, new RegExp(`^HostName=localhost:${ports.mqtt};DeviceId=cam-2;SharedAccessKey=[A-Za-z0-9+/=]+$`));
    const client = await deviceClient(cs, fs.readFileSync(path.join(stateDir, 'ca.pem'), 'utf8'));
    await client.open();
    await client.sendEvent(new azureDevice.Message('{"via":"cli"}'));
    await client.close();
    const listed = (await (await fetch(`http://127.0.0.1:${ports.api}/devices/cam-2/messages`)).json()) as Array<{ body: unknown }>;
    assert.deepEqual(
      listed.map((m) => m.body),
      [{ via: 'cli' }],
    );

    const x = await run(process.execPath, [MAIN, 'device', 'add', 'cam-x', '--x509', '--state', stateDir]);
    assert.equal(x.stdout.trim(), `HostName=localhost:${ports.mqtt};DeviceId=cam-x;x509=true`);
    const certPath = path.join(stateDir, 'devices', 'cam-x.cert.pem');
    const keyPath = path.join(stateDir, 'devices', 'cam-x.key.pem');
    assert.equal(x.stderr, `certificate ${certPath}\nkey         ${keyPath}\n`);
    const xc = await x509DeviceClient(
      x.stdout.trim(),
      fs.readFileSync(path.join(stateDir, 'ca.pem'), 'utf8'),
      fs.readFileSync(certPath, 'utf8'),
      fs.readFileSync(keyPath, 'utf8'),
    );
    await xc.open();
    await xc.close();

    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.equal(fs.existsSync(path.join(stateDir, 'ports.json')), false);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('device add without a running hub, --help and usage errors', { timeout: 60_000 }, async () => {
  const stateDir = tempDir('percept-hub-cli-');
  const added = await run(process.execPath, [MAIN, 'device', 'add', 'edge-1', '--module', 'percept', '--state', stateDir]);
  assert.match(added.stdout.trim(), /^HostName=localhost:8883;DeviceId=edge-1;ModuleId=percept;SharedAccessKey=\S+$/);
  const registry = JSON.parse(fs.readFileSync(path.join(stateDir, 'registry.json'), 'utf8')) as { devices: Record<string, { modules: object }> };
  assert.deepEqual(Object.keys(must(registry.devices['edge-1'], 'edge-1').modules), ['percept']);

  const x = await run(process.execPath, [MAIN, 'device', 'add', 'cam-x', '--x509', '--state', stateDir]);
  assert.equal(x.stdout.trim(), 'HostName=localhost:8883;DeviceId=cam-x;x509=true');
  const keyPath = path.join(stateDir, 'devices', 'cam-x.key.pem');
  assert.match(x.stderr, new RegExp(`key +${keyPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.equal(fs.statSync(keyPath).mode & 0o777, 0o600);
  const again = await run(process.execPath, [MAIN, 'device', 'add', 'cam-x', '--x509', '--state', stateDir]);
  assert.equal(again.stdout, x.stdout, 'adding it again keeps the same certificate');
  await assert.rejects(run(process.execPath, [MAIN, 'device', 'add', 'edge-1', '--x509', '--state', stateDir]), (e: { code?: number; stderr?: string }) => {
    assert.equal(e.code, 1);
    assert.match(e.stderr ?? '', /DeviceAlreadyExists/);
    return true;
  });
  await assert.rejects(run(process.execPath, [MAIN, 'device', 'add', 'y', '--thumbprint', 'AB', '--state', stateDir]), (e: { code?: number }) => e.code === 2);

  for (const [args, said] of [
    [['device', 'add'], /hub device add needs a device id: percept hub device add <id>/],
    [['device', 'add', 'a', 'b'], /takes one device id, got: a b/],
    [['device', 'remove', 'a'], /unknown device command 'remove'/],
  ] as const) {
    await assert.rejects(run(process.execPath, [MAIN, ...args, '--state', stateDir]), (e: { code?: number; stderr?: string }) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr ?? '', said);
      return true;
    });
  }

  const help = await run(process.execPath, [MAIN, '--help']);
  assert.match(help.stdout, /percept hub device add <id>/);
  await assert.rejects(run(process.execPath, [MAIN, '--mqtt-port', 'many', '--state', stateDir]), (e: { code?: number; stderr?: string }) => {
    assert.equal(e.code, 2);
    assert.match(e.stderr ?? '', /Expected a port between 0 and 65535 for --mqtt-port/);
    return true;
  });
  await assert.rejects(run(process.execPath, [MAIN, 'device', 'add', 'bad/id', '--state', stateDir]), (e: { code?: number }) => e.code === 1);
});

test('a hub whose MQTT port is taken says so and exits, rather than hang', { timeout: 30_000 }, async () => {
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  try {
    const taken = (holder.address() as net.AddressInfo).port;
    const stateDir = tempDir('percept-hub-cli-');
    const args = [MAIN, '--state', stateDir, '--mqtt-port', String(taken), '--api-port', '0', '--files-port', '0', '--ws-port', 'off'];
    await assert.rejects(
      run(process.execPath, args, { timeout: 20_000, killSignal: 'SIGKILL' }),
      (e: { code?: number | string; killed?: boolean; stderr?: string }) => {
        assert.equal(e.killed, false, 'it exited by itself');
        assert.equal(e.code, 1);
        assert.match(e.stderr ?? '', new RegExp(`\\[PortInUse\\] Port ${taken} for the MQTT broker is in use`));
        return true;
      },
    );
  } finally {
    holder.close();
  }
});
