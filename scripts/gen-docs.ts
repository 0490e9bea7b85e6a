// Regenerates .env.example, config/{miner,validator}.env.example and the README's config table from the config schema: `npm run gen:docs`.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderConfigTable, renderEnvExample } from '../src/config/load.js';

writeFileSync(new URL('../.env.example', import.meta.url), renderEnvExample());
for (const role of ['miner', 'validator'] as const) writeFileSync(new URL(`../config/${role}.env.example`, import.meta.url), renderEnvExample(role));
const readmeUrl = new URL('../README.md', import.meta.url);
const readme = readFileSync(readmeUrl, 'utf8');
const start = '<!-- config-table:start -->';
const end = '<!-- config-table:end -->';
const a = readme.indexOf(start);
const b = readme.indexOf(end);
if (a < 0 || b < a) throw new Error('README.md lacks the config-table markers');
writeFileSync(readmeUrl, `${readme.slice(0, a + start.length)}\n${renderConfigTable()}\n${readme.slice(b)}`);
