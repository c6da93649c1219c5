// Packs cams-receipts as `npm pack` would publish it, and installs the tarball into a fresh project the
// way a user would, without a registry: npm ci from a lockfile made of the repository's own (so every
// package comes from the npm cache that `npm ci` of the repository filled, or the registry if missing).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface LockEntry {
  readonly dev?: boolean;
  readonly [key: string]: unknown;
}

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Record<string, string>;
  readonly [key: string]: unknown;
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function npm(args: string[], cwd: string): string {
  return execFileSync(NPM, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A packed package: its name, tarball and manifest. */
export interface Packed {
  readonly name: string;
  readonly tarball: string;
  readonly manifest: Manifest;
}

/** Packs a directory. */
function pack(dir: string, into: string): Packed {
  const out = npm(['pack', '--silent', '--pack-destination', into], dir).trim().split('\n');
  const manifest = readJson<Manifest>(join(dir, 'package.json'));
  return { name: manifest.name, tarball: join(into, out[out.length - 1] as string), manifest };
}

/**
 * `npm pack` of a copy of the repository (so the prepack build writes no dist/ into the checkout, where
 * bin/cams-receipts.js would prefer it to the sources).
 */
export function packRepository(work: string): Packed {
  const copy = join(work, 'source');
  mkdirSync(copy);
  for (const name of readdirTracked()) cpSync(join(ROOT, name), join(copy, name), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  return pack(copy, work);
}

function readdirTracked(): string[] {
  const manifest = readJson<{ files: string[] }>(join(ROOT, 'package.json'));
  const build = [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'src',
    'README.md',
  ];
  return [...new Set([...build, ...manifest.files.filter(f => f !== 'dist')])];
}

/** A one-file package a handler depends on, packed: the handler's "own dependency". */
export function packHandlerDependency(work: string): Packed {
  const dir = join(work, 'handler-dep');
  mkdirSync(dir);
  const manifest = { name: 'handler-dep', version: '1.0.0', type: 'module', exports: './index.js' };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
  writeFileSync(join(dir, 'index.js'), 'export const label = id => `recorded ${id}`;\n');
  return pack(dir, work);
}

/** The lockfile entry of a tarball dependency. */
function lockEntry({ manifest, tarball }: Packed): Record<string, unknown> {
  const { version, license, dependencies, bin, engines } = manifest;
  return { version, resolved: `file:${tarball}`, license, dependencies, bin, engines };
}

/** Installs packed tarballs into a new project at `dir` with `npm ci`; returns `dir`. */
export function installProject(dir: string, packed: readonly Packed[]): string {
  mkdirSync(dir, { recursive: true });
  const dependencies = Object.fromEntries(packed.map(p => [p.name, `file:${p.tarball}`]));
  const packages: Record<string, unknown> = { '': { name: 'app', dependencies } };
  const rootLock = readJson<{ packages: Record<string, LockEntry> }>(join(ROOT, 'package-lock.json'));
  for (const [path, entry] of Object.entries(rootLock.packages)) {
    if (path.startsWith('node_modules/') && !entry.dev) packages[path] = entry;
  }
  for (const p of packed) packages[`node_modules/${p.name}`] = lockEntry(p);
  // The lockfile follows the repository's overrides (see package.json), so the project carries them too.
  const { overrides } = readJson<{ overrides?: Record<string, string> }>(join(ROOT, 'package.json'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'app', private: true, dependencies, overrides }),
  );
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages }),
  );
  npm(['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  return dir;
}

export function tempWork(): string {
  return mkdtempSync(join(tmpdir(), 'cams-package-'));
}
