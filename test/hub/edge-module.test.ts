// Under IoT Edge the agent takes its identity and trust from the environment IoT Edge gives a
// module (ModuleClient.fromEnvironment over the workload API, which the emulator serves) and
// sends through its outputs, so edgeHub routes apply. The agent here gets exactly what the
// module's container gets, read from the files that define it: the image's ENV and CMD (the
// Dockerfile), the module's `env` and twin (deploy/deployment.template.json), and the
// variables IoT Edge sets for every module; nothing of this test's own environment.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestHub } from '../helpers/emulator.js';
import { startCli } from '../helpers/cli.js';
import { finalStage } from '../helpers/dockerfile.js';
import { until } from '../helpers/agent.js';
import { ROOT, tempDir } from '../helpers/paths.js';

type Json = Record<string, unknown>;
type Env = Record<string, { value: string }>;

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy', 'deployment.template.json'), 'utf8')) as {
  modulesContent: {
    $edgeAgent: { 'properties.desired': { modules: { percept: { env?: Env } } } };
    $edgeHub: { 'properties.desired': { routes: Record<string, string> } };
    percept: { 'properties.desired': Json & { sources: Json[] } };
  };
};
const content = manifest.modulesContent;
/** The folder the image keeps its state in, a volume in the container. */
const VOLUME = '/var/lib/percept';

/** The outputs edgeHub routes upstream from the percept module. */
function routedOutputs(): string[] {
  return Object.values(content.$edgeHub['properties.desired'].routes).flatMap((r) => {
    const m = /^FROM \/messages\/modules\/percept\/outputs\/(\w+) INTO \$upstream$/.exec(r);
    return m?.[1] ? [m[1]] : [];
  });
}

test('the agent runs as an IoT Edge module with exactly the environment and command IoT Edge gives its container', { timeout: 120_000 }, async () => {
  const hub = await startTestHub({ deviceId: 'edge-box', moduleId: 'percept' });
  // The container's volume at /var/lib/percept: a fresh folder here (also its HOME, which
  // Docker takes from the image user's passwd entry, /var/lib/percept).
  const volume = tempDir('percept-edge-volume-');
  const here = (v: string) => v.split(VOLUME).join(volume);
  const image = finalStage();
  // ENTRYPOINT ["node", "/opt/percept/dist/src/cli.js"]: the same program, built in this checkout.
  assert.equal(image.entrypoint[0], 'node');
  assert.match(image.entrypoint[1] ?? '', /\/dist\/src\/cli\.js$/);
  assert.ok(image.cmd.includes('--edge'), `the image starts the agent in IoT Edge mode: ${image.cmd.join(' ')}`);
  const moduleEnv = Object.fromEntries(Object.entries(content.$edgeAgent['properties.desired'].modules.percept.env ?? {}).map(([k, v]) => [k, v.value]));
  const env: Record<string, string> = {
    // Docker: the image's ENV, PATH, and HOME.
    ...Object.fromEntries(Object.entries(image.env).map(([k, v]) => [k, here(v)])),
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: volume,
    // IoT Edge (edgeAgent and the security daemon): the IOTEDGE_* identity and workload API, and the runtime's log level.
    ...hub.hub.edgeEnv('edge-box', 'percept'),
    RuntimeLogLevel: 'info',
    // The deployment: the module's env entries.
    ...Object.fromEntries(Object.entries(moduleEnv).map(([k, v]) => [k, here(v)])),
  };
  // The module twin as the deployment sets it, but for the one thing this machine lacks: it has
  // no /dev/video0, so the demo source (a live kind the twin may set, from the same photos a
  // board without a camera uses) plays cam0 at 5 frames/s.
  const desired = content.percept['properties.desired'];
  assert.deepEqual(
    desired.sources.map((s) => s.uri),
    ['/dev/video0'],
  );
  hub.hub.patchDesired('edge-box', { ...desired, sources: [{ id: 'cam0', kind: 'demo', fps: 5 }] }, 'percept');

  const agent = startCli(image.cmd.map(here), { env, exactEnv: true, timeoutMs: 110_000 });
  try {
    const outputs = routedOutputs();
    assert.deepEqual(outputs.sort(), ['detections', 'events'], 'the manifest routes windows and track events upstream');
    const arrived = await until(
      'telemetry on every routed output',
      () => {
        const msgs = hub.hub.messages('edge-box', 'percept');
        const on = (o: string) => msgs.find((m) => m.systemProperties.outputName === o);
        const windows = msgs.filter((m) => m.systemProperties.outputName === 'detections' && m.properties.schema === 'percept.detections/1');
        const withFaces = windows.find((m) => ((m.body as { frames?: Array<{ detections: unknown[] }> }).frames ?? []).some((f) => f.detections.length > 0));
        return withFaces && outputs.every(on) ? { window: withFaces, event: on('events')! } : null;
      },
      90_000,
    );
    assert.equal(arrived.window.moduleId, 'percept');
    assert.equal(arrived.event.properties.schema, 'percept.event/1');
    assert.match(agent.stderr, /"auth":"edge"/);
    // The twin's settings are the ones in force (the deployment's interval, read back as reported).
    const reported = hub.hub.twin('edge-box', 'percept').reported as { percept?: { running?: { telemetry?: { intervalMs?: number } } } };
    assert.equal(reported.percept?.running?.telemetry?.intervalMs, (desired.telemetry as { intervalMs: number }).intervalMs);
    // What the volume holds: the outbox, the software signing key (PERCEPT_SIGNER from the manifest).
    assert.ok(fs.existsSync(path.join(volume, 'outbox.db')), 'the outbox lives in the volume');
    assert.ok(fs.existsSync(path.join(volume, 'signing-key.pem')), 'the software signing key lives in the volume');
  } finally {
    // As Docker stops a container: SIGTERM to the agent.
    agent.child.kill('SIGTERM');
    const r = await agent.done;
    await hub.close();
    assert.equal(r.code, 0, r.stderr.slice(-3000));
  }
});
