// The option table as people read it: the grouped options of `percept run --help`, and the
// configuration reference in docs/configuration.md (printed by scripts/gen-config-doc.mjs;
// a test fails when the committed file differs, so the two cannot drift apart).

import { COMMAND_FLAGS, GROUPS, OPTION_LIST, type Group, type Option } from './options.js';
import { modelRefSchema, modelUpdateSchema, sourceSchema } from './schema.js';

/** The default as words: the row's own text, else its value. */
export function defaultOf(o: Option): string | undefined {
  if (o.defaultText !== undefined) return o.defaultText;
  if (!('default' in o) || o.default === undefined) return undefined;
  if (typeof o.default === 'function') throw new Error(`option ${o.name}: a computed default needs defaultText`);
  const d: unknown = o.default;
  if (Array.isArray(d)) return d.length ? d.join(',') : 'none';
  return typeof d === 'string' || typeof d === 'number' || typeof d === 'boolean' ? String(d) : JSON.stringify(d);
}

const COLUMN = 30;
const WIDTH = 100;

/** Words of `text` in lines of at most `width` (a `\n` in the text always breaks). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
  }
  return lines;
}

function helpLine(left: string, help: string): string {
  const [first, ...more] = wrap(help, WIDTH - COLUMN);
  const pad = left.length <= COLUMN - 2 ? left.padEnd(COLUMN) : `${left}\n${' '.repeat(COLUMN)}`;
  return [pad + first, ...more.map((l) => ' '.repeat(COLUMN) + l)].join('\n');
}

/** The options of `percept run --help`, by group, in table order. */
export function runHelpOptions(): string {
  const out: string[] = [];
  for (const [group, title] of Object.entries(GROUPS) as Array<[Group, string]>) {
    out.push(`${title}:`);
    for (const o of OPTION_LIST.filter((r) => r.group === group)) {
      const d = o.arg ? defaultOf(o) : undefined;
      const names = [o.flag, ...(o.aliases ?? [])].join(', ');
      out.push(helpLine(`  ${names}${o.arg ? ` ${o.arg}` : ''}`, o.help + (d !== undefined ? ` (default ${d})` : '')));
    }
    for (const c of COMMAND_FLAGS.filter((r) => r.group === group)) {
      out.push(helpLine(`  ${'short' in c ? `${c.short}, ` : ''}${c.flag}${'arg' in c ? ` ${c.arg}` : ''}`, c.help));
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string) => `\`${s}\``;

function row(o: Option): string {
  const flag = [o.flag, ...(o.aliases ?? [])].map((f) => cell(code(o.arg ? `${f} ${o.arg}` : f))).join(', ');
  const unit = o.unit ? ` (flag and variable in ${o.unit.name})` : '';
  const d = defaultOf(o);
  const twin = o.twin?.length ? o.twin.map(code).join(', ') : (o.twinNote ?? 'no');
  const alias = o.fileAliases?.length ? ` Also read from ${o.fileAliases.map(code).join(', ')} in a config file.` : '';
  const path = o.path ? ' A path: relative to the config file when given there.' : '';
  return `| ${code(o.key)} | ${flag} | ${code(o.env)} | ${cell(o.type.brief + unit)} | ${d === undefined ? '-' : cell(d)} | ${twin} | ${cell(o.help)}.${cell(alias + path)} |`;
}

/** docs/configuration.md, whole. */
export function renderReference(): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/options.ts by `node scripts/gen-config-doc.mjs`; do not edit by hand. -->',
    '',
    'Every setting of `percept run` can be given four ways; a later one wins:',
    '',
    '1. its default;',
    '2. a JSON config file (`--config <file.json>` or `PERCEPT_CONFIG`), by its key (a dotted key `hub.ca` is `{"hub": {"ca": ...}}`);',
    '3. its environment variable (lists as `a,b`; switches as `true`/`false`, `1`/`0`);',
    '4. its flag.',
    '',
    "Settings marked twin-settable may also be changed at run time by the module twin's desired",
    'properties, under the desired key shown. A bad value is refused in one shape wherever it came',
    'from, naming its origin, e.g. `workers: expected an integer from 1 to 16 but got 0 (from --workers)`',
    '(or `(from PERCEPT_WORKERS)`, `(from workers in config file <f>)`, `(from desired properties)`); the',
    'exit code is 2 (`ERR_CONFIG`). A misspelt flag or key is answered with the closest known one; an',
    'unknown `PERCEPT_*` variable is warned about at start.',
    '',
  ];
  for (const [group, title] of Object.entries(GROUPS) as Array<[Group, string]>) {
    lines.push(`## ${title.replace(/ \(.*\)$/, '')}`, '');
    lines.push('| key | flag | environment | type | default | twin | description |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const o of OPTION_LIST.filter((r) => r.group === group)) lines.push(row(o));
    lines.push('');
  }
  lines.push(
    '## Sources and models in a config file',
    '',
    `\`sources\` is a list (1 to 16) of objects with the keys ${Object.keys(sourceSchema.shape).map(code).join(', ')}.`,
    '`kind` is one of `image`, `folder`, `video`, `rtsp`, `webcam`, `synthetic`, `demo`; `uri` is the path, device or URL',
    '(for `synthetic`, a still image played as a live camera at `fps`, instead of the test pattern).',
    '`--fps` and `--loop` set every source; `--source` replaces the list. The twin may set only live sources',
    '(`webcam`, `rtsp`, `demo`, `synthetic`), and their `uri` names no file on the device: a webcam is `/dev/videoN`,',
    'a stream a network URL, `demo` and `synthetic` none (a still photo played live is given on the command line).',
    '',
    `\`model\` (and a source's own \`model\`) is an object with the keys ${Object.keys(modelRefSchema.shape).map(code).join(', ')}.`,
    'The twin names a model by name only (a built-in model or a manifest in `modelDirs`), never by path.',
    '',
    '## Model updates',
    '',
    "Over-the-air model packages (the twin's `model.package` or `ModelZipUrl`, see docs/models.md) are bounded by",
    '`modelUpdate`, an object in the config file only: no flag, no environment variable, and the twin is refused',
    'if it tries to set it, so a cloud account cannot loosen what a device accepts.',
    '',
    '| key | default | description |',
    '| --- | --- | --- |',
    ...Object.entries(modelUpdateSchema.unwrap().shape).map(
      ([k, v]) =>
        `| ${code(`modelUpdate.${k}`)} | ${code(JSON.stringify((modelUpdateSchema.parse({}) as Record<string, unknown>)[k]))} | ${cell(v.description ?? '')}. |`,
    ),
    '',
    '## Flags of the command',
    '',
    '| flag | environment | description |',
    '| --- | --- | --- |',
    ...COMMAND_FLAGS.map(
      (c) =>
        `| ${code(`${'short' in c ? `${c.short}, ` : ''}${c.flag}${'arg' in c ? ` ${c.arg}` : ''}`)} | ${'env' in c ? code(c.env) : '-'} | ${cell(c.help)} |`,
    ),
    '',
  );
  return lines.join('\n');
}
