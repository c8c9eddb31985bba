// The documentation stays true to the tree: docs/architecture.md names every folder and every
// top-level file of src/, the files it names exist, and every relative link in README.md and
// docs/*.md reaches a file that exists (and a heading, when the link names one).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/paths.js';

// Files the documents name that arrive with changes not yet merged here. Each entry must be
// removed once its file exists, so the list cannot hide a broken name or link for long.
const PENDING = new Set<string>([]);

const ARCHITECTURE = path.join(ROOT, 'docs', 'architecture.md');
const read = (file: string) => fs.readFileSync(file, 'utf8');
const rel = (file: string) => path.relative(ROOT, file).split(path.sep).join('/');

/** Every folder under src/, as `src/a/b`. */
function srcFolders(dir = path.join(ROOT, 'src')): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => [rel(path.join(dir, e.name)), ...srcFolders(path.join(dir, e.name))]);
}

/** Markdown without its fenced code blocks, where a bracket is not a link. */
function prose(md: string): string {
  return md.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's anchors for a document's headings (lower case, punctuation dropped, spaces to '-'; repeats get -1, -2...). */
function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(md).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!
      .replace(/`/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

function documents(): string[] {
  const docs = path.join(ROOT, 'docs');
  return [
    path.join(ROOT, 'README.md'),
    ...fs
      .readdirSync(docs)
      .filter((n) => n.endsWith('.md'))
      .map((n) => path.join(docs, n)),
  ];
}

test('docs/architecture.md names every folder and top-level file of src/', () => {
  const doc = read(ARCHITECTURE);
  const folders = srcFolders();
  assert.ok(folders.includes('src/agent') && folders.includes('src/models/decoders'), `the walk finds src/'s folders (${folders.join(', ')})`);
  const unnamed = folders.filter((f) => !new RegExp(`\`${f}[\`/]`).test(doc));
  assert.deepEqual(unnamed, [], `folders of src/ that docs/architecture.md does not name (as \`src/<folder>\`): ${unnamed.join(', ')}`);
  const files = fs
    .readdirSync(path.join(ROOT, 'src'))
    .filter((n) => n.endsWith('.ts'))
    .map((n) => `src/${n}`);
  assert.ok(files.includes('src/errors.ts'), 'the walk finds the top-level files');
  const unnamedFiles = files.filter((f) => !doc.includes(`\`${f}\``));
  assert.deepEqual(unnamedFiles, [], `top-level files of src/ that docs/architecture.md does not name: ${unnamedFiles.join(', ')}`);
});

test('every file docs/architecture.md names exists', () => {
  const named = new Set([...read(ARCHITECTURE).matchAll(/`((?:src|test|scripts|native)\/[\w./-]+\.(?:ts|mjs))`/g)].map((m) => m[1]!));
  assert.ok(named.size > 30, `the document names the files of the path (${named.size})`);
  const missing = [...named].filter((f) => !PENDING.has(f) && !fs.existsSync(path.join(ROOT, f)));
  assert.deepEqual(missing, [], `files named in docs/architecture.md that do not exist: ${missing.join(', ')}`);
});

test('relative links in README.md and docs/*.md reach existing files and headings', () => {
  const broken: string[] = [];
  let links = 0;
  for (const file of documents()) {
    const md = read(file);
    for (const m of prose(md).matchAll(/\[[^\]\n]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      links++;
      const [file0, anchor] = target.split('#') as [string, string | undefined];
      const dest = file0 ? path.resolve(path.dirname(file), decodeURIComponent(file0)) : file;
      const where = `${rel(file)}: (${target})`;
      if (PENDING.has(rel(dest))) continue;
      if (!fs.existsSync(dest)) {
        broken.push(`${where}: ${rel(dest)} does not exist`);
        continue;
      }
      if (anchor && dest.endsWith('.md') && !anchors(read(dest)).has(anchor)) broken.push(`${where}: ${rel(dest)} has no heading #${anchor}`);
    }
  }
  assert.ok(links > 20, `the documents' links were found (${links})`);
  assert.deepEqual(broken, [], `broken links:\n${broken.join('\n')}`);
});

test('files awaited by the documents are still missing (remove each from PENDING once it exists)', () => {
  const arrived = [...PENDING].filter((f) => fs.existsSync(path.join(ROOT, f)));
  assert.deepEqual(arrived, [], `these now exist: remove them from PENDING in test/docs/architecture.test.ts: ${arrived.join(', ')}`);
});
