#!/usr/bin/env node
// Runs the compiled daemon (dist/, built by `npm run build` and shipped in the package), otherwise the
// TypeScript sources through tsx: a git checkout in development.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/main.js', import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('cams-receipts: dist/ is missing; run `npm run build` (or `npm ci` for tsx)\n');
    process.exit(1);
  }
  register();
  await import(new URL('../src/main.ts', import.meta.url).href);
}
