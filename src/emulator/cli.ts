// `percept hub`: runs the emulator in the foreground until SIGINT/SIGTERM, and `percept hub
// device add|list` manages identities — through the running emulator's API when one answers
// (found via <state>/ports.json), else directly in <state>/registry.json.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ensureDeviceCertificate } from './device-certs.js';
import { publishFile } from './files.js';
import { EmulatorError } from './errors.js';
import { PerceptError } from '../errors.js';
import { StateLock } from '../state/lock.js';
import { ensurePrivateDir } from '../state/modes.js';
import { DEFAULT_DEVICE_ID, DEFAULT_HUB_STATE_DIR } from '../state/defaults.js';
import { DEFAULT_API_PORT, DEFAULT_MQTT_PORT, HubEmulator, type PortsFile } from './index.js';
import { Registry } from './registry.js';
import type { EmulatorLogger } from './types.js';
import { WEBSOCKET_PORT } from './websocket.js';
import { normalizeThumbprint } from './x509.js';

export const DEFAULT_STATE_DIR = DEFAULT_HUB_STATE_DIR;

const HELP = `Usage:
  percept hub [--state <dir>] [--mqtt-port N] [--api-port N] [--ws-port N] [--device <id>] [--log-level <level>]
      Run the local IoT Hub emulator in the foreground (Ctrl-C stops it). Prints the CA file
      devices must trust and a connection string per device; with no device registered it
      adds one (--device, default "${DEFAULT_DEVICE_ID}").
  percept hub device add <id> [--module <m>] [--state <dir>]
      Register a device (or a module of it) and print its connection string on stdout. A
      running emulator with the same state folder accepts it at once.
  percept hub device add <id> --x509 [--thumbprint <hex>] [--state <dir>]
      Register an X.509 device: make a self-signed certificate and key in <state>/devices/
      (paths on stderr), or, with --thumbprint, trust the SHA-1/SHA-256 thumbprint of your own.
      Prints HostName=...;DeviceId=<id>;x509=true (run the agent with --cert and --key).
  percept hub device list [--state <dir>]
      Print the registered devices and modules.
  percept hub model publish <pkg.zip> --device <id> [--module <m>] [--state <dir>]
      Copy a model package (percept model pack) into <state>/files/, served over HTTPS with the
      emulator's CA, and set the device's desired model.package {url, sha256} through the
      running emulator. Prints the package's URL and sha256.

Options:
  --state <dir>       state folder: CA, certificates, registry, twins, messages (default ${DEFAULT_STATE_DIR})
  --mqtt-port N       MQTT over TLS port on 127.0.0.1 (default ${DEFAULT_MQTT_PORT}; 0 = any free port)
  --api-port N        HTTP service API port on 127.0.0.1 (default ${DEFAULT_API_PORT}; 0 = any free port)
  --files-port N      HTTPS file server for <state>/files/ on 127.0.0.1 (default 8885; 0 = any free port)
  --ws-port N|off     MQTT over WebSockets (wss, path /$iothub/websocket) on 127.0.0.1; default: ${WEBSOCKET_PORT},
                      the only port the SDK's MqttWs dials, when it can be bound (root) and is free, else off
  --log-level <l>     fatal, error, warn, info, debug or silent (default info; logs go to stderr)
  -h, --help          show this help`;

class UsageError extends Error {}

function wsPort(value: string | undefined): number | 'auto' | undefined {
  if (value === undefined || value === 'auto') return 'auto';
  if (value === 'off') return undefined;
  return port(value, '--ws-port', 0);
}

function port(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new UsageError(`Expected a port between 0 and 65535 for ${name} but received ${value}`);
  return Number(value);
}

export async function hubCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`percept hub: ${(err as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  try {
    const [sub, verb, id, ...extra] = parsed.positionals;
    const stateDir = path.resolve(parsed.values.state ?? DEFAULT_STATE_DIR);
    if (sub === undefined) return await serve(stateDir, parsed.values);
    if (sub === 'device' && verb === 'add' && id !== undefined && extra.length === 0) {
      const { x509, thumbprint, module: moduleId } = parsed.values;
      if (thumbprint !== undefined && !x509) throw new UsageError('--thumbprint goes with --x509');
      if (x509 && moduleId !== undefined) throw new UsageError('--x509 is for devices; modules use symmetric keys');
      const cs = x509
        ? await addX509Device(stateDir, id, thumbprint, parsed.values['mqtt-port'])
        : await addDevice(stateDir, id, moduleId ?? null, parsed.values['mqtt-port']);
      process.stdout.write(cs + '\n');
      return 0;
    }
    if (sub === 'model' && verb === 'publish' && id !== undefined && extra.length === 0) {
      const device = parsed.values.device;
      if (!device) throw new UsageError('hub model publish needs --device <id>');
      process.stdout.write(JSON.stringify(await publishModel(stateDir, id, device, parsed.values.module)) + '\n');
      return 0;
    }
    if (sub === 'device' && verb === 'list' && id === undefined) {
      for (const d of new Registry(stateDir).list()) process.stdout.write([d.deviceId, ...d.modules.map((m) => `${d.deviceId}/${m}`)].join('\n') + '\n');
      return 0;
    }
    if (sub === 'device' && verb === 'add')
      throw new UsageError(
        id === undefined
          ? 'hub device add needs a device id: percept hub device add <id> [--module <m>] [--x509]'
          : `hub device add takes one device id, got: ${[id, ...extra].join(' ')}`,
      );
    if (sub === 'device') throw new UsageError(`unknown device command '${verb ?? ''}': percept hub device add <id> | percept hub device list`);
    throw new UsageError(`unknown arguments: ${parsed.positionals.join(' ')}`);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`percept hub: ${err.message}\n\n${HELP}\n`);
      return 2;
    }
    const code = EmulatorError.is(err) || PerceptError.is(err) ? `[${err.code}] ` : '';
    process.stderr.write(`percept hub: ${code}${(err as Error).message ?? String(err)}\n`);
    return PerceptError.is(err, 'ERR_STATE_LOCKED') ? 2 : 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      state: { type: 'string' },
      'mqtt-port': { type: 'string' },
      'api-port': { type: 'string' },
      'ws-port': { type: 'string' },
      'files-port': { type: 'string' },
      x509: { type: 'boolean' },
      thumbprint: { type: 'string' },
      device: { type: 'string' },
      module: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function serve(stateDir: string, values: ReturnType<typeof parse>['values']): Promise<number> {
  const level = values['log-level'] ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) {
    throw new UsageError(`Expected fatal, error, warn, info, debug or silent for --log-level but received ${level}`);
  }
  // Two emulators on one registry would hand out the same identities and split the messages.
  using _stateLock = StateLock.acquire(stateDir, 'percept hub');
  const logger: EmulatorLogger = pino({ level, base: { name: 'hub' } }, pino.destination(2));
  const hub = await HubEmulator.start({
    stateDir,
    mqttPort: port(values['mqtt-port'], '--mqtt-port', DEFAULT_MQTT_PORT),
    apiPort: port(values['api-port'], '--api-port', DEFAULT_API_PORT),
    wsPort: wsPort(values['ws-port']),
    filesPort: port(values['files-port'], '--files-port', 8885),
    logger,
  });
  const devices = new Registry(stateDir).list();
  if (devices.length === 0 || values.device !== undefined) hub.addDevice(values.device ?? DEFAULT_DEVICE_ID);
  const lines = [
    'IoT Hub emulator ready',
    `  MQTT over TLS  ${hub.hostName}`,
    `  MQTT over WSS  ${hub.wsNote}`,
    `  service API    http://127.0.0.1:${hub.apiPort}`,
    `  files (https)  ${hub.fileUrl('')} (serves ${path.join(hub.stateDir, 'files')})`,
    `  CA certificate ${hub.caPath}`,
    `  state          ${hub.stateDir}`,
    `Connection strings (give percept the CA: --ca ${hub.caPath}):`,
  ];
  if (hub.wsPort === WEBSOCKET_PORT)
    lines.splice(-1, 0, `  (over WebSockets the SDK dials port ${WEBSOCKET_PORT}: write HostName=${hub.host}, without the port)`);
  for (const d of new Registry(stateDir).list()) {
    lines.push(`  ${hub.connectionString(d.deviceId)}`);
    for (const m of d.modules) lines.push(`  ${hub.connectionString(d.deviceId, m)}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'stopping');
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // Started by `percept start`, its stdin is a pipe from that parent, which closes when the
    // parent is gone, however it ended (even SIGKILL): the emulator does not outlive it.
    if (process.env.PERCEPT_HUB_PARENT_PIPE === '1') {
      process.stdin.once('close', () => {
        logger.info({ reason: 'the parent process is gone' }, 'stopping');
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      });
      process.stdin.resume();
    }
  });
  // The parent's pipe would keep this process alive past its stop.
  if (process.env.PERCEPT_HUB_PARENT_PIPE === '1') process.stdin.destroy();
  await hub.close();
  return 0;
}

function readPorts(stateDir: string): PortsFile | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(stateDir, 'ports.json'), 'utf8')) as PortsFile;
  } catch {
    return null;
  }
}

/** POST /devices to a running emulator; null when none answers (a stale ports.json). */
async function viaApi<T extends object = object>(apiPort: number, request: object): Promise<(T & { connectionString: string }) | null> {
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${apiPort}/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(5000),
    });
  } catch {
    return null;
  }
  const body = (await res.json().catch(() => ({}))) as T & { connectionString?: string; error?: { code: string; message: string } };
  if (body.connectionString) return body as T & { connectionString: string };
  throw new EmulatorError(res.status === 409 ? 'DeviceAlreadyExists' : 'BadRequest', body.error?.message ?? `emulator answered ${res.status}`);
}

/** Through the running emulator when it answers, so it knows the device at once; else on disk. */
async function addDevice(stateDir: string, deviceId: string, moduleId: string | null, mqttPortFlag: string | undefined): Promise<string> {
  const ports = readPorts(stateDir);
  const r = ports ? await viaApi(ports.api, { id: deviceId, ...(moduleId === null ? {} : { moduleId }) }) : null;
  if (r) return r.connectionString;
  ensurePrivateDir(stateDir);
  const { key } = new Registry(stateDir).add(deviceId, moduleId);
  const mqttPort = port(mqttPortFlag, '--mqtt-port', ports?.mqtt ?? DEFAULT_MQTT_PORT);
  const host = ports?.host ?? 'localhost';
  return `HostName=${host}:${mqttPort};DeviceId=${deviceId};` + (moduleId === null ? '' : `ModuleId=${moduleId};`) + `SharedAccessKey=${key}`;
}

/** Through the running emulator when it answers (it writes the files in the same state folder); else here. */
async function addX509Device(stateDir: string, deviceId: string, thumbprint: string | undefined, mqttPortFlag: string | undefined): Promise<string> {
  if (thumbprint !== undefined) normalizeThumbprint(thumbprint); // a usage error before anything is written
  const ports = readPorts(stateDir);
  const report = (r: { certPath?: string; keyPath?: string }) => {
    if (r.certPath) process.stderr.write(`certificate ${r.certPath}\nkey         ${r.keyPath}\n`);
  };
  if (ports) {
    const body = { id: deviceId, auth: 'x509', ...(thumbprint === undefined ? {} : { thumbprint }) };
    const r = await viaApi<{ certPath?: string; keyPath?: string }>(ports.api, body);
    if (r) {
      report(r);
      return r.connectionString;
    }
  }
  ensurePrivateDir(stateDir);
  const registry = new Registry(stateDir);
  if (thumbprint !== undefined) registry.addX509(deviceId, { type: 'selfSigned', thumbprints: [thumbprint] });
  else report(ensureDeviceCertificate(stateDir, deviceId, (t) => registry.addX509(deviceId, { type: 'selfSigned', thumbprints: [t.sha1, t.sha256] })));
  const mqttPort = port(mqttPortFlag, '--mqtt-port', ports?.mqtt ?? DEFAULT_MQTT_PORT);
  return `HostName=${ports?.host ?? 'localhost'}:${mqttPort};DeviceId=${deviceId};x509=true`;
}

/**
 * Copies the package into the running emulator's file folder and points the device's desired
 * model.package at it, through the emulator's API (which keeps the twin's $version and pushes
 * the patch to the connected device).
 */
async function publishModel(
  stateDir: string,
  pkg: string,
  deviceId: string,
  moduleId: string | undefined,
): Promise<{ url: string; sha256: string; size: number }> {
  const ports = readPorts(stateDir);
  if (!ports?.files)
    throw new EmulatorError('BadRequest', `no emulator with a file server runs on ${stateDir}: start \`percept hub --state ${stateDir}\` first`);
  const { name, sha256, size } = await publishFile(stateDir, pkg);
  const url = `https://127.0.0.1:${ports.files}/files/${encodeURIComponent(name)}`;
  const who = moduleId ? `${encodeURIComponent(deviceId)}/modules/${encodeURIComponent(moduleId)}` : encodeURIComponent(deviceId);
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${ports.api}/devices/${who}/twin/desired`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: { package: { url, sha256 } } }),
      signal: AbortSignal.timeout(5000),
    });
  } catch (e) {
    throw new EmulatorError(
      'BadRequest',
      `the emulator's API on port ${ports.api} does not answer (${(e as Error).message}); is \`percept hub --state ${stateDir}\` running?`,
    );
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    throw new EmulatorError(res.status === 404 ? 'DeviceNotFound' : 'BadRequest', body.error?.message ?? `the emulator answered ${res.status}`);
  }
  return { url, sha256, size };
}
