// The configuration API: load, inspect and print.
export { loadConfig } from './load.js';
export type { LoadConfigOptions } from './load.js';
export { loadQueueFiles, listQueueFiles } from './queues.js';
export type { ConsumerDefaults } from './queues.js';
export { redactConfig } from './redact-config.js';
export { configWarnings } from './warnings.js';
export { configSchema, configSchemaDocs } from './schema.js';
export type { ConfigProperties, SchemaLeaf } from './schema.js';
export type * from './types.js';
