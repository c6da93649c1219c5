// Renders the configuration key table of docs/configuration.md from the convict schema, so the
// reference cannot drift from the code. test/docs/config-docs.test.ts fails when the two differ.
import type { Format } from '../src/config/formats.js';
import type { SchemaLeaf } from '../src/config/schema.js';

export const TABLE_START =
  '<!-- config-keys:start (generated from src/config/schema.ts by `npm run docs:config`; do not edit) -->';
export const TABLE_END = '<!-- config-keys:end -->';

/** Escapes what a table cell cannot hold as it is: `|` always, `<` outside code spans. */
function cell(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map(part => (part.startsWith('`') ? part : part.replace(/</g, '\\<')))
    .join('')
    .replace(/\|/g, '\\|');
}

function code(text: string): string {
  return '`' + text + '`';
}

function rejects(format: Format, value: unknown): string | undefined {
  try {
    format(value);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * What a format accepts, in the words of the error it gives a user. A string format says only
 * "must be a string" to a non-string, so a string that breaks most patterns asks for the rest.
 */
export function describeFormat(format: Format): string {
  const typeError = rejects(format, undefined);
  if (typeError !== undefined && typeError !== 'must be a string') return typeError.replace(/^must be /, '');
  const patternError = rejects(format, '\u0000 ');
  if (patternError === undefined) return typeError === undefined ? 'any value' : 'a string';
  return patternError.startsWith('must be ')
    ? patternError.slice('must be '.length)
    : `a string that ${patternError}`;
}

function defaultCell(leaf: SchemaLeaf): string {
  return leaf.sensitive ? '—' : code(JSON.stringify(leaf.default));
}

function row(leaf: SchemaLeaf): string {
  const cells = [
    code(leaf.key),
    leaf.env ? code(leaf.env) : '',
    defaultCell(leaf),
    cell(describeFormat(leaf.format)),
    cell(leaf.doc),
  ];
  return `| ${cells.join(' | ')} |`;
}

/** The table, one row per schema key in schema order. Secrets show no default. */
export function renderConfigTable(leaves: readonly SchemaLeaf[]): string {
  const head = ['| Key | Env | Default | Format | Meaning |', '|---|---|---|---|---|'];
  return [...head, ...leaves.map(row)].join('\n');
}

/** `markdown` with the text between the markers replaced by the table; the prose around it stays. */
export function spliceConfigTable(markdown: string, leaves: readonly SchemaLeaf[]): string {
  const start = markdown.indexOf(TABLE_START);
  const end = markdown.indexOf(TABLE_END);
  if (start < 0 || end < start) {
    throw new Error(`the configuration page lacks the markers ${TABLE_START} … ${TABLE_END}`);
  }
  const before = markdown.slice(0, start + TABLE_START.length);
  return `${before}\n\n${renderConfigTable(leaves)}\n\n${markdown.slice(end)}`;
}
