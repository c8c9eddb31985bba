// The agent's version, read once from package.json so `percept --version`, the reported
// twin properties and the bundle name can never disagree with the released package.

import fs from 'node:fs';

// dist/src/version.js and src/version.ts both sit two folders below package.json.
const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export const VERSION: string = pkg.version;
