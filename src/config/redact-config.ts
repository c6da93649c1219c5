import { REDACTED, redact } from '../observability/redact.js';
import { maskUrlPassword } from './raw-values.js';
import { configSchemaDocs } from './schema.js';
import type { AppConfig } from './types.js';

/**
 * A deep, unfrozen copy of `config` safe to print: every `sensitive` key that is set becomes
 * `[REDACTED]` (an unset one stays `''`, so an operator can see it is missing), the Redis URL loses
 * its password, and handler options go through the generic secret-name redaction.
 */
export function redactConfig(config: AppConfig): AppConfig {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  for (const leaf of configSchemaDocs()) {
    if (!leaf.sensitive) continue;
    const parts = leaf.key.split('.');
    const name = parts.pop() as string;
    const parent = parts.reduce<Record<string, unknown>>(
      (node, part) => node[part] as Record<string, unknown>,
      copy,
    );
    if (parent[name] !== '') parent[name] = REDACTED;
  }
  const redis = copy['redis'] as { url: string };
  redis.url = maskUrlPassword(redis.url);
  copy['handlers'] = redact(copy['handlers']);
  return copy as unknown as AppConfig;
}
