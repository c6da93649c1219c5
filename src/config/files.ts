import { readFileSync } from 'node:fs';
import { extname, isAbsolute, relative } from 'node:path';
import { YAMLParseError, parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';

/** A path as shown in messages: relative to the working directory when it is inside it. */
export function displayPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function lineOf(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

/** Node's JSON errors carry a position (or a line and column) in their message, depending on the version. */
function jsonErrorWhere(text: string, message: string): string | undefined {
  const lineCol = /line (\d+) column (\d+)/.exec(message);
  if (lineCol) return `line ${lineCol[1]}, column ${lineCol[2]}`;
  const position = /at position (\d+)/.exec(message);
  if (position) return lineOf(text, Number(position[1]));
  // Fall back to the YAML parser, whose errors always have a line; JSON is (almost) YAML.
  try {
    parseYaml(text);
  } catch (err) {
    const pos = err instanceof YAMLParseError ? err.linePos?.[0] : undefined;
    if (pos) return `line ${pos.line}, column ${pos.col}`;
  }
  return undefined;
}

function parseJson(text: string, shown: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const message = (err as Error).message;
    const where = jsonErrorWhere(text, message);
    throw new ConfigError(`invalid JSON${where ? ` at ${where}` : ''}: ${message}`, shown, undefined, {
      cause: err,
    });
  }
}

function parseYamlText(text: string, shown: string): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    const pos = err instanceof YAMLParseError ? err.linePos?.[0] : undefined;
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    const reason = ((err as Error).message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`invalid YAML${where}: ${reason}`, shown, undefined, { cause: err });
  }
}

/** Reads a `.json`, `.yaml` or `.yml` file; an empty file is `undefined`. Errors name the file and the line. */
export function readConfigFile(path: string, shown: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read: ${(err as Error).message}`, shown, undefined, { cause: err });
  }
  const ext = extname(path).toLowerCase();
  return ext === '.json' ? parseJson(text, shown) : parseYamlText(text, shown);
}
