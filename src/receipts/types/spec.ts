/** Fields a receipt type may add later are kept: every receipt is an open record. */
export interface OpenRecord {
  [field: string]: unknown;
}

type Fields = Record<string, unknown>;

/**
 * Everything the daemon knows about one receipt type. One file per type under src/receipts/types/ exports
 * one of these; src/receipts/types.ts lists them. `R` is the receipt's TypeScript shape, carried for typing.
 */
export interface ReceiptTypeSpec<N extends string = string, R extends OpenRecord = OpenRecord> {
  readonly name: N;
  /** Starts the BullMQ job ids of this type (`<prefix>-<key>`). Unique, lower case, no `-` or `.`. */
  readonly jobIdPrefix: string;
  /** Default HTTP push path (`http.paths.<name>`); `''` leaves push off until a path is configured. */
  readonly pushPath: string;
  /** The fields the default dedupe key joins, in order. */
  readonly dedupeFields: readonly string[];
  /** How a key field enters the key, when not as it is (an absent audit Type reads as `template`). */
  readonly keyPart?: (field: string, value: unknown) => unknown;
  /** Known text fields: a number given here becomes its decimal string. */
  readonly textFields: readonly string[];
  /** Known boolean fields: `true`/`false`/`1`/`0` given as text or numbers become booleans. */
  readonly booleanFields?: readonly string[];
  /** What is missing for a receipt of this type (the tail of a sentence), or undefined. */
  readonly missing: (receipt: Fields) => string | undefined;
  /** The fields worth a log line (the built-in `log` handler); content such as message text is left out. */
  readonly loggedFields: readonly string[];
  /**
   * Where receipts of one thing have an order (a message's statuses), the rank of this one: receipts that wait
   * for the same `serializeBy` key run lowest rank first. Undefined: arrival order.
   */
  readonly rank?: (receipt: Fields) => number | undefined;
  /** Only carries the type `R`; never set. */
  readonly receipt?: R;
}

/** Typed identity helper for a type file: `export default defineReceiptType<'X', XReceipt>({...})`. */
export function defineReceiptType<N extends string, R extends OpenRecord>(
  spec: ReceiptTypeSpec<N, R>,
): ReceiptTypeSpec<N, R> {
  return spec;
}

/** Why `field` is not a non-empty string, or undefined when it is one. */
export function requireText(r: Fields, field: string): string | undefined {
  const value = r[field];
  if (value === undefined) return `is missing ${field}`;
  if (typeof value !== 'string') return `has a ${field} that is not a string (${describe(value)})`;
  if (value === '') return `has an empty ${field}`;
  return undefined;
}

export function words(list: string): readonly string[] {
  return list.trim().split(/\s+/);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
