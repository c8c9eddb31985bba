// The IoT Edge deployment manifest and module.json under deploy/: their structure, the
// container options IoT Edge hands to Docker, and the module twin's desired properties, which
// must pass the agent's own validation (src/config/desired.ts) as they would on a device.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { ROOT } from '../helpers/paths.js';
import { applyDesired } from '../../src/config/desired.js';
import { defaultSource, parseConfig } from '../../src/config/load.js';
import { OPTIONS, type OptionDef } from '../../src/config/options.js';

/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- walking the parsed manifest (Json) */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- walking parsed JSON

const read = (f: string): Json => JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy', f), 'utf8')) as Json;
const manifest = read('deployment.template.json');
const content = manifest.modulesContent as Json;
const agent = content.$edgeAgent['properties.desired'] as Json;
const percept = agent.modules.percept as Json;

test('the manifest is schema 1.1 with edgeAgent, edgeHub and the percept module', () => {
  assert.equal(agent.schemaVersion, '1.1');
  assert.equal(agent.runtime.type, 'docker');
  assert.match(agent.systemModules.edgeAgent.settings.image, /azureiotedge-agent:/);
  assert.match(agent.systemModules.edgeHub.settings.image, /azureiotedge-hub:/);
  assert.equal(percept.type, 'docker');
  assert.equal(percept.status, 'running');
  assert.equal(percept.restartPolicy, 'always');
  assert.equal(percept.settings.image, '${MODULES.percept}');
});

test('createOptions is a string holding Docker ContainerCreate JSON: devices, state, no privileges', () => {
  assert.equal(typeof percept.settings.createOptions, 'string', 'IoT Edge takes createOptions as a string');
  const opts = JSON.parse(percept.settings.createOptions as string) as Json;
  const host = opts.HostConfig as Json;
  assert.equal(host.Privileged, undefined, 'no Privileged: devices are passed one by one');
  const devices = new Map((host.Devices as Json[]).map((d) => [d.PathOnHost as string, d]));
  for (const dev of ['/dev/video0', '/dev/tpmrm0']) {
    const d = devices.get(dev);
    assert.ok(d, `${dev} is passed to the container`);
    assert.equal(d.PathInContainer, dev);
    assert.equal(d.CgroupPermissions, 'rwm');
  }
  const state = [...(host.Mounts ?? []), ...(host.Binds ?? []).map((b: string) => ({ Target: b.split(':')[1] }))] as Json[];
  assert.ok(
    state.some((m) => m.Target === '/var/lib/percept'),
    'the state folder is a volume or bind',
  );
  assert.deepEqual(host.CapDrop, ['ALL']);
  assert.deepEqual(host.SecurityOpt, ['no-new-privileges']);
  assert.equal(percept.env.PERCEPT_STATE_DIR.value, '/var/lib/percept');
});

test('edgeHub routes the outputs the agent sends on (windows and track events) upstream and keeps messages 7200 s', () => {
  const hub = content.$edgeHub['properties.desired'] as Json;
  assert.equal(hub.schemaVersion, '1.1');
  const telemetry = parseConfig({ sources: [defaultSource()] }).telemetry;
  assert.equal(telemetry.output, 'detections');
  assert.equal(telemetry.eventsOutput, 'events');
  const routes = Object.values(hub.routes as Json).map((r) => (typeof r === 'string' ? r : (r as Json).route));
  for (const output of [telemetry.output, telemetry.eventsOutput]) {
    assert.ok(routes.includes(`FROM /messages/modules/percept/outputs/${output} INTO $upstream`), routes.join('\n'));
  }
  assert.equal(hub.storeAndForwardConfiguration.timeToLiveSecs, 7200);
});

test("the percept module's desired properties pass the agent's own validation", () => {
  const desired = content.percept['properties.desired'] as Json;
  const base = parseConfig({ sources: [{ id: 'local', kind: 'demo' }] });
  const { config, ignored } = applyDesired(base, desired);
  assert.deepEqual(ignored, []);
  assert.deepEqual(
    config.sources.map((s) => [s.id, s.kind, s.uri]),
    [['cam0', 'webcam', '/dev/video0']],
  );
  assert.equal(config.model.name, desired.model.name);
  assert.equal(config.telemetry.intervalMs, desired.telemetry.intervalMs);
  // The validation is real: the same document with one bad value is refused.
  assert.throws(() => applyDesired(base, { ...desired, telemetry: { intervalMs: 5 } }), { code: 'ERR_CONFIG' });
});

test("the percept module's desired properties hold every twin-settable default of the option table", () => {
  const desired = content.percept['properties.desired'] as Json;
  const at = (key: string): unknown => key.split('.').reduce<unknown>((o, k) => (o as Json | undefined)?.[k], desired);
  const checked: string[] = [];
  const missing: string[] = [];
  for (const o of Object.values(OPTIONS) as OptionDef[]) {
    // A default that depends on the machine (workers) or on the model (scoreThreshold) has no one value to write down.
    if (!o.twin || o.default === undefined || typeof o.default === 'function') continue;
    const key = o.twin[0]!;
    checked.push(key);
    if (!util.isDeepStrictEqual(at(key), o.default)) missing.push(`${key}: ${JSON.stringify(at(key))} instead of the default ${JSON.stringify(o.default)}`);
  }
  assert.deepEqual(missing, [], 'the manifest states the defaults the twin may change');
  assert.ok(checked.length >= 20, `${checked.length} twin-settable defaults checked`);
});

test('module.json names the image and builds it for amd64 and arm64v8 at the package version', () => {
  const mod = read('module.json');
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(typeof mod.image.repository, 'string');
  assert.equal(mod.image.tag.version, pkg.version);
  for (const platform of ['amd64', 'arm64v8']) {
    const dockerfile = mod.image.tag.platforms[platform] as string;
    assert.ok(dockerfile, `platform ${platform}`);
    assert.ok(fs.existsSync(path.join(ROOT, 'deploy', dockerfile)), `${dockerfile} exists`);
  }
  assert.ok(fs.existsSync(path.join(ROOT, 'deploy', mod.image.contextPath as string, 'package.json')), 'the build context is the project');
});
