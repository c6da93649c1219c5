// Regenerates the key table of docs/configuration.md from the convict schema.
//   npm run docs:config
import { readFileSync, writeFileSync } from 'node:fs';
import { configSchemaDocs } from '../src/config/schema.js';
import { spliceConfigTable } from './config-table.js';

const CONFIG_DOC = new URL('../docs/configuration.md', import.meta.url);

const current = readFileSync(CONFIG_DOC, 'utf8');
const next = spliceConfigTable(current, configSchemaDocs());
if (next === current) {
  console.log('docs/configuration.md is up to date');
} else {
  writeFileSync(CONFIG_DOC, next);
  console.log(`docs/configuration.md: table regenerated (${configSchemaDocs().length} keys)`);
}
