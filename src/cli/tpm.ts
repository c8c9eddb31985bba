// `percept tpm`: provisioning of the device's TPM. `enroll` makes sure the signing and
// attestation keys exist and prints the keys-file entry a verifier needs; `import-key` moves
// the IoT Hub SAS key into the TPM and prints the connection string without it.
import { parseArgs } from 'node:util';
import { PerceptError } from '../errors.js';
import { importSasKey } from '../hub/sas-import.js';
import { enrollNonce, enrollTpm } from '../attest/evidence.js';
import { DEFAULT_TCTI } from '../attest/tpm.js';
import { envDeviceKey } from '../hub/link.js';
import { KEY_IN_TPM } from '../hub/tpm-auth.js';
import { printHelp, subcommandHelp } from './args.js';

export const TPM_HELP = `Usage: percept tpm <enroll|import-key> [options]

  percept tpm enroll [--tcti <s>] [--device <id>] [--nonce <hex>]
      Creates the signing and attestation keys if missing and prints the keys-file entry
      {"<device>": {"keys": [...], "attestationKey": {...}, "certification": {...}}} that
      \`percept verify --keys\` reads. --device defaults to the DeviceId (/ModuleId) of
      PERCEPT_CONNECTION_STRING; --nonce (hex, 8-64 bytes) defaults to a fixed per-device value.
      (A device signing with a software key: \`percept keys export\` prints its entry.)

  percept tpm import-key --connection-string <cs> [--tcti <s>]
      Stores the connection string's SharedAccessKey in the TPM (keyed-hash object at
      0x81000a03) and prints the connection string without the key, marked
      ${KEY_IN_TPM}: \`percept run\` then signs its SAS tokens inside the TPM.
      The connection string may come from PERCEPT_CONNECTION_STRING instead.

  --tcti <s>   TPM access (default ${DEFAULT_TCTI}; PERCEPT_TCTI), e.g. swtpm:host=127.0.0.1,port=2321`;

export async function tpmCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  return subcommandHelp('tpm', sub, ['enroll', 'import-key'], TPM_HELP) ?? (sub === 'enroll' ? enroll(rest) : importKey(rest));
}

/** The options of a subcommand: --tcti (resolved to its default), --help and `extra`. */
function args(argv: string[], extra: Record<string, { type: 'string' }>): { tcti: string; help: boolean; [name: string]: string | boolean | undefined } {
  const { values: v } = parseArgs({ args: argv, options: { tcti: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...extra } });
  return { ...v, tcti: v.tcti ?? process.env.PERCEPT_TCTI ?? DEFAULT_TCTI, help: v.help === true };
}

async function enroll(argv: string[]): Promise<number> {
  const v = args(argv, { device: { type: 'string' }, nonce: { type: 'string' } });
  if (v.help) return printHelp(TPM_HELP);
  const device = (v.device as string | undefined) ?? envDeviceKey();
  if (!device) throw new PerceptError('ERR_USAGE', 'pass --device <id> (the DeviceId the hub knows this device by), or set PERCEPT_CONNECTION_STRING');
  const entry = await enrollTpm(v.tcti, enrollNonce(device, v.nonce as string | undefined));
  process.stdout.write(JSON.stringify({ [device]: entry }, null, 2) + '\n');
  return 0;
}

async function importKey(argv: string[]): Promise<number> {
  const v = args(argv, { 'connection-string': { type: 'string' } });
  if (v.help) return printHelp(TPM_HELP);
  const cs = (v['connection-string'] as string | undefined) ?? process.env.PERCEPT_CONNECTION_STRING;
  if (!cs) throw new PerceptError('ERR_USAGE', 'pass --connection-string "HostName=...;DeviceId=...;SharedAccessKey=..." (or set PERCEPT_CONNECTION_STRING)');
  const withoutKey = await importSasKey(cs, v.tcti);
  process.stdout.write(withoutKey + '\n');
  process.stderr.write(
    'percept tpm: the SharedAccessKey is in the TPM (handle 0x81000a03); run `percept run` with the connection string above and the same --tcti\n',
  );
  return 0;
}
