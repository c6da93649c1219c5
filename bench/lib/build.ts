// The daemon built to JavaScript, as production runs it: tsc with the project's own tsconfig.build.json.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Compiles `project` (a tsconfig.build.json) into `outDir` with the repository's TypeScript. */
export function buildDaemon(project: string, outDir: string): void {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', project, '--outDir', outDir], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`the build of ${project} failed`);
}
