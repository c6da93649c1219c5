import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform, type Loader, type TransformFailure } from 'esbuild';

const LOADERS: Readonly<Record<string, Loader>> = {
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
};

/**
 * Where a handler module's syntax error is, as `file:line:column`, or undefined when the error is no syntax
 * error. tsx (esbuild) names the place in its message; Node 22 on the first line of the stack
 * (`file:///…/h.mjs:3`); Node 20 nowhere, so the file is parsed once more with esbuild to find it.
 */
export async function syntaxErrorLocation(err: unknown, path: string): Promise<string | undefined> {
  if (!(err instanceof Error)) return undefined;
  const inMessage = /(\/\S+\.[cm]?[jt]sx?):(\d+):(\d+): ERROR/.exec(err.message);
  if (inMessage) return `${inMessage[1]}:${inMessage[2]}:${inMessage[3]}`;
  const code = (err as NodeJS.ErrnoException).code;
  if (!(err instanceof SyntaxError) && code !== 'ERR_INVALID_TYPESCRIPT_SYNTAX') return undefined;
  const stackHead = /^(file:\/\/\S+?):(\d+)\s*$/.exec(err.stack?.split('\n')[0] ?? '');
  if (stackHead?.[1]) return `${fileURLToPath(stackHead[1])}:${stackHead[2]}`;
  return parsedLocation(path);
}

/** The first syntax error esbuild finds in the file, as `file:line:column`. */
async function parsedLocation(path: string): Promise<string | undefined> {
  const loader = LOADERS[extname(path)];
  if (!loader) return undefined;
  try {
    await transform(await readFile(path, 'utf8'), { loader, sourcefile: path, format: 'esm' });
    return undefined;
  } catch (err) {
    const at = (err as Partial<TransformFailure>).errors?.[0]?.location;
    // esbuild counts columns from 0, editors from 1.
    return at ? `${path}:${at.line}:${at.column + 1}` : undefined;
  }
}
