// Module resolution hooks for handler modules, registered by ./module-hooks.ts (node:module register()).
// A handler in its own directory (/etc/cams-receipts/handlers) finds no node_modules above it: a bare
// import it cannot resolve from where it lives is resolved again from the installed cams-receipts package,
// so it sees `cams-receipts` itself and every package installed next to it.

interface HookData {
  /** A URL inside the cams-receipts package: bare imports resolve from here when they fail elsewhere. */
  readonly fallbackParentUrl: string;
  /** When running from src/ (no build), `cams-receipts` resolves to src/index.ts. */
  readonly sourceEntryUrl?: string;
}

interface ResolveContext {
  readonly parentURL?: string;
  readonly conditions: readonly string[];
}

interface Resolved {
  readonly url: string;
}

type NextResolve = (specifier: string, context: ResolveContext) => Promise<Resolved>;

let data: HookData | undefined;

export function initialize(given: HookData): void {
  data = given;
}

function isBare(specifier: string): boolean {
  return !/^(\.{0,2}\/|[a-z][a-z0-9+.-]*:)/i.test(specifier);
}

export async function resolve(
  specifier: string,
  context: ResolveContext,
  nextResolve: NextResolve,
): Promise<Resolved> {
  if (data?.sourceEntryUrl && specifier === 'cams-receipts') {
    return nextResolve(data.sourceEntryUrl, context);
  }
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (!data || code !== 'ERR_MODULE_NOT_FOUND' || !isBare(specifier)) throw err;
    if (context.parentURL === data.fallbackParentUrl) throw err;
    try {
      return await nextResolve(specifier, { ...context, parentURL: data.fallbackParentUrl });
    } catch {
      throw err;
    }
  }
}
