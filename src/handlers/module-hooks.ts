import { register } from 'node:module';

/** Where this module runs from: src/ under tsx in a checkout, dist/ once built or installed. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const HOOK_URL = new URL(`./resolve-hook.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url);

let hooksRegistered = false;
let tsxRegistered = false;

/**
 * Lets handler modules outside the application import `cams-receipts` and the packages installed next to
 * it (see ./resolve-hook.ts). Registered once, before the first handler module is imported.
 */
export function registerHandlerResolution(): void {
  if (hooksRegistered) return;
  hooksRegistered = true;
  register(HOOK_URL, {
    data: {
      // The package's own package.json: resolving from it finds its node_modules and the ones above.
      fallbackParentUrl: new URL('../../package.json', import.meta.url).href,
      sourceEntryUrl: FROM_SOURCE ? new URL('../index.ts', import.meta.url).href : undefined,
    },
  });
}

/**
 * Loads TypeScript through tsx, for a Node.js without type stripping (20, 22 before 22.18 without
 * --experimental-strip-types). tsx is a dependency of the package.
 */
export async function registerTsx(): Promise<boolean> {
  if (tsxRegistered) return false;
  tsxRegistered = true;
  const { register: registerTsxHooks } = await import('tsx/esm/api');
  registerTsxHooks();
  return true;
}
