// `percept tpm`: provisioning of the device's TPM. `enroll` makes sure the signing and
// attestation keys exist and prints the keys-file entry a verifier needs; `import-key` moves
// the IoT Hub SAS key into the TPM and prints the connection string without it.
import { parseArgs } from 'node:util';
import { PerceptError } from '../errors.js';
import { importSasKey } from '../hub/sas-import.js';
import { enrollNonce, enrollTpm } from '../attest/evidence.js';
import { deviceKeyOf } from '../hub/link.js';
import { KEY_IN_TPM } from '../hub/tpm-auth.js';
import { printHelp, subcommandHelp } from './args.js';

const DEFAULT_TCTI = 'device:/dev/tpmrm0';

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
  if (sub === 'enroll') return enroll(rest);
  if (sub === 'import-key') return importKey(rest);
  const help = subcommandHelp(sub, TPM_HELP);
  if (help !== null) return help;
  process.stderr.write(`percept tpm: unknown subcommand '${sub}'\n\n${TPM_HELP}\n`);
  return 2;
}

function args(argv: string[], extra: Record<string, { type: 'string' }>) {
  return parseArgs({ args: argv, options: { tcti: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...extra } }).values as Record<
    string,
    string | boolean | undefined
  >;
}

async function enroll(argv: string[]): Promise<number> {
  const v = args(argv, { device: { type: 'string' }, nonce: { type: 'string' } });
  if (v.help) return printHelp(TPM_HELP);
  const cs = process.env.PERCEPT_CONNECTION_STRING;
  const device = (v.device as string | undefined) ?? (cs ? deviceKeyOf(cs) : undefined);
  if (!device) throw new PerceptError('ERR_USAGE', 'pass --device <id> (the DeviceId the hub knows this device by), or set PERCEPT_CONNECTION_STRING');
  let nonce = enrollNonce(device);
  if (v.nonce !== undefined) {
    const text = String(v.nonce);
    if (!/^([0-9a-fA-F]{2}){8,64}$/.test(text)) throw new PerceptError('ERR_USAGE', `Expected 8 to 64 bytes of hex for --nonce but received '${text}'`);
    nonce = Buffer.from(text, 'hex');
  }
  const entry = await enrollTpm((v.tcti as string | undefined) ?? process.env.PERCEPT_TCTI ?? DEFAULT_TCTI, nonce);
  process.stdout.write(JSON.stringify({ [device]: entry }, null, 2) + '\n');
  return 0;
}

async function importKey(argv: string[]): Promise<number> {
  const v = args(argv, { 'connection-string': { type: 'string' } });
  if (v.help) return printHelp(TPM_HELP);
  const cs = (v['connection-string'] as string | undefined) ?? process.env.PERCEPT_CONNECTION_STRING;
  if (!cs) throw new PerceptError('ERR_USAGE', 'pass --connection-string "HostName=...;DeviceId=...;SharedAccessKey=..." (or set PERCEPT_CONNECTION_STRING)');
  const withoutKey = await importSasKey(cs, (v.tcti as string | undefined) ?? process.env.PERCEPT_TCTI ?? DEFAULT_TCTI);
  process.stdout.write(withoutKey + '\n');
  process.stderr.write(
    'percept tpm: the SharedAccessKey is in the TPM (handle 0x81000a03); run `percept run` with the connection string above and the same --tcti\n',
  );
  return 0;
}
