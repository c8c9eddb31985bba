// `percept model pack`: builds a model package (manifest, ONNX, labels) as a zip and prints
// what the twin's desired `model.package` needs: its sha256, size and, with --sign, signature.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { PerceptError } from '../errors.js';
import { buildPackage } from '../models/package.js';
import { FILE_CAPS, readRegularFileSync } from '../read-file.js';
import { printHelp, subcommandHelp } from './args.js';

export const MODEL_HELP = `Usage: percept model pack --manifest <m.json> --model <m.onnx> [--labels <l.txt>] [--sign <key.pem>] -o <pkg.zip>

  Builds a model package and prints {"sha256", "size", "signature"?} for the twin's desired
  model.package ({"url", "sha256", "size"?, "signature"?}).

  --manifest <f>   a model manifest (as in models/); its "file" is replaced by the --model file
  --model <f>      the ONNX model
  --labels <f>     a labels file (one per line); default the manifest's labelsFile, if any
  --sign <key.pem> an EC P-256 private key: the signature is ECDSA P-256 / SHA-256 over the 32
                   bytes of the package's SHA-256 digest, DER, base64 (devices verify it
                   against modelUpdate.trustedKeys)
  -o, --output <f> where to write the zip`;

export async function modelCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const help = subcommandHelp('model', sub, ['pack'], MODEL_HELP);
  if (help !== null) return help;
  const { values: v } = parseArgs({
    args: rest,
    options: {
      manifest: { type: 'string' },
      model: { type: 'string' },
      labels: { type: 'string' },
      sign: { type: 'string' },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return printHelp(MODEL_HELP);
  if (!v.manifest || !v.model || !v.output)
    throw new PerceptError('ERR_USAGE', 'percept model pack needs --manifest, --model and -o; see percept model --help');
  const signKeyPem = v.sign
    ? readRegularFileSync(v.sign, { what: 'signing key', maxBytes: FILE_CAPS.pem, openCode: 'ERR_USAGE', hint: 'check --sign' }).toString('utf8')
    : undefined;
  const pkg = buildPackage({ manifestPath: v.manifest, modelPath: v.model, labelsPath: v.labels, signKeyPem });
  fs.writeFileSync(v.output, pkg.zip);
  process.stdout.write(JSON.stringify({ sha256: pkg.sha256, size: pkg.size, ...(pkg.signature ? { signature: pkg.signature } : {}) }) + '\n');
  return 0;
}
