import { randomBytes } from 'node:crypto';

/**
 * Identifier factories. Counters with a random per-instance prefix keep ids unique and cheap:
 * a crypto call per message would show up in the hot path at tens of thousands of messages a second.
 */
export class IdFactory {
  private readonly prefix12 = randomBytes(6).toString('hex').toUpperCase();
  private readonly prefix16 = randomBytes(8).toString('hex').toUpperCase();
  private requestSeq = 0;
  private messageSeq = 0;
  private handleSeq = 0;
  private messageKeySeq = 0;
  /** Ties receipt handles to this emulator instance, so a handle from an earlier run is foreign. */
  readonly handleTag = alnum(6);

  /** 24 upper-case hex chars, like `x-mns-request-id`. */
  requestId(): string {
    this.requestSeq += 1;
    return this.prefix12 + this.requestSeq.toString(16).toUpperCase().padStart(12, '0');
  }

  /** The internal key of a new message; receipt handles carry it so lookups are O(1). */
  nextMessageKey(): number {
    this.messageKeySeq += 1;
    return this.messageKeySeq;
  }

  /** 32 upper-case hex chars, the 2024 MessageId shape. */
  messageId(): string {
    this.messageSeq += 1;
    return this.prefix16 + this.messageSeq.toString(16).toUpperCase().padStart(16, '0');
  }

  /** `<priority>-<message key>-<receive seq><tag>`: only [A-Za-z0-9-], safe unencoded in a query. */
  receiptHandle(priority: number, messageKey: number): string {
    this.handleSeq += 1;
    return `${priority}-${messageKey.toString(36)}-${this.handleSeq.toString(36)}${this.handleTag}`;
  }

  /** The message key a handle of this instance names, or undefined when the handle is malformed or foreign. */
  parseHandle(handle: string): number | undefined {
    const match = HANDLE_SHAPE.exec(handle);
    if (!match || !handle.endsWith(this.handleTag)) return undefined;
    const key = parseInt(match[1] as string, 36);
    return Number.isSafeInteger(key) ? key : undefined;
  }
}

const HANDLE_SHAPE = /^(?:[1-9]|1[0-6])-([0-9a-z]{1,11})-[0-9a-z]+[A-Za-z0-9]{6}$/;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random [A-Za-z0-9] string (for tokens and tags; not on a hot path). */
export function alnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALNUM[b % ALNUM.length];
  return out;
}
