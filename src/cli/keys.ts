// `percept keys export`: the keys-file entry of a software-signed device, the counterpart of
// `percept tpm enroll` for devices without a TPM. It opens (creating if missing) the signing
// key of a state folder and prints {"<device>": {"keys": [...]}} for `percept verify --keys`.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SoftwareSigner } from '../attest/software.js';
import type { KeysFile } from '../attest/keys.js';
import { envDeviceKey } from '../hub/link.js';
import { DEFAULT_DEVICE_ID, DEFAULT_STATE_DIR } from '../state/defaults.js';
import { printHelp, subcommandHelp } from './args.js';

export const KEYS_HELP = `Usage: percept keys export [--state <dir>] [--key-file <pem>] [--device <id>]

Prints the keys-file entry of this device's software signing key, the JSON that
\`percept verify --keys\` reads: {"<device>": {"keys": [{"kid", "publicKeyPem", "attestation": "software"}]}}.
The key is created if the state folder holds none yet, so it can be enrolled before the
first run. Several devices: merge their objects into one file.
  --state <dir>      the agent's state folder (default ${DEFAULT_STATE_DIR}; PERCEPT_STATE_DIR)
  --key-file <pem>   the signing key, when not <state>/signing-key.pem (attest.keyFile)
  --device <id>      the id the hub knows the device by; default the DeviceId (/ModuleId) of
                     PERCEPT_CONNECTION_STRING, else ${DEFAULT_DEVICE_ID}`;

export async function keysCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const help = subcommandHelp('keys', sub, ['export'], KEYS_HELP);
  if (help !== null) return help;
  const { values } = parseArgs({
    args: rest,
    options: { state: { type: 'string' }, 'key-file': { type: 'string' }, device: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return printHelp(KEYS_HELP);
  const device = values.device ?? envDeviceKey() ?? DEFAULT_DEVICE_ID;
  const stateDir = values.state ?? (process.env.PERCEPT_STATE_DIR || DEFAULT_STATE_DIR);
  const signer = await SoftwareSigner.open(values['key-file'] ?? path.join(stateDir, 'signing-key.pem'));
  const entry: KeysFile = { [device]: { keys: [{ kid: signer.kid, publicKeyPem: signer.publicKeyPem, attestation: signer.attestation }] } };
  process.stdout.write(JSON.stringify(entry, null, 2) + '\n');
  process.stderr.write(`percept keys: ${signer.keyFile} (kid ${signer.kid}) for device ${device}\n`);
  await signer.close();
  return 0;
}
