// `percept verify`: checks a recorded stream of received telemetry against the devices'
// enrolled keys and says what verifies. Exit 0: everything verifies; 1: any finding; 2: bad
// usage or unreadable input, so scripts and CI can gate on it.
import { parseArgs } from 'node:util';
import { PerceptError } from '../errors.js';
import { KeyRing } from '../attest/keys.js';
import { JsonlMessageSource } from '../attest/messages.js';
import { verifyMessages } from '../attest/verify.js';
import { formatReport } from '../attest/verify-report.js';
import { printHelp } from './args.js';

export const VERIFY_HELP = `Usage: percept verify --messages <messages.jsonl> --keys <keys.json> [--device <id>] [--json] [--partial] [--allow-reorder]

Verifies the attestation chain of received telemetry: every message's digest, the links
between messages and boots, and the checkpoint signatures against the enrolled keys.
  --messages <file>  received messages, one JSON object a line, as the emulator writes
                     <state>/messages.jsonl: {deviceId, moduleId, messageId, properties, bodyBase64, body?}
  --keys <file>      {"<deviceId>": {"keys": [{"kid", "publicKeyPem", "attestation"}]}},
                     as \`percept tpm enroll\` or \`percept keys export\` print it
                     (several devices: merge the objects)
  --device <id>      check only this device (and its modules) or <id>/<module>; repeatable
  --json             print the report as one JSON object
  --partial          the input may begin mid-chain (a retention window): do not count the
                     missing start of the first boot as a gap
  --allow-reorder    arrival order carries no meaning on this path: list reorderings, but do
                     not count them as findings
Findings: forged or altered messages (also a \`body\` that is not the parse of its
\`bodyBase64\`), bad or unknown signatures, gaps, reorderings, messages no signature covers,
an input with nothing to verify, lines longer than any message (skipped unread).
Not findings: duplicates (same id and digest), replays of identical messages, and the
unsigned tail after the last checkpoint.
Exit status: 0 everything verifies, 1 any finding, 2 bad usage or input.`;

export async function verifyCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        messages: { type: 'string' },
        keys: { type: 'string' },
        device: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        partial: { type: 'boolean' },
        'allow-reorder': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (values.help) return printHelp(VERIFY_HELP);
  if (!values.messages || !values.keys) return usage('--messages and --keys are required');
  try {
    const keys = await KeyRing.load(values.keys);
    const report = await verifyMessages(new JsonlMessageSource(values.messages), keys, {
      partial: values.partial,
      allowReorder: values['allow-reorder'],
      devices: values.device,
    });
    process.stdout.write(values.json ? JSON.stringify(report) + '\n' : formatReport(report));
    return report.ok ? 0 : 1;
  } catch (e) {
    // Anything that stops verification is "could not verify" (2), never a finding (1).
    const code = PerceptError.is(e) ? `[${e.code}] ` : '';
    process.stderr.write(`percept verify: ${code}${(e as Error).message}\n`);
    return 2;
  }
}

function usage(why: string): number {
  process.stderr.write(`percept verify: ${why}\n\n${VERIFY_HELP}\n`);
  return 2;
}
