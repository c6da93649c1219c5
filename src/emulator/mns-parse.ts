import { fail } from './mns-errors.js';
import type { EmulatedQueue } from './queue.js';
import type { QueueAttributes } from './queue-types.js';
import { XmlSyntaxError, childText, parseXml, type XmlElement } from './xml.js';

export function parseBody(body: string, root: string): XmlElement {
  let element: XmlElement;
  try {
    element = parseXml(body);
  } catch (err) {
    if (err instanceof XmlSyntaxError) fail('MalformedXML');
    throw err;
  }
  if (element.name !== root)
    fail('MalformedXML', `The XML you provided was not well-formed: expected <${root}>.`);
  return element;
}

/** A whole number within [low, high], or InvalidArgument with the service's wording. */
export function integerIn(value: string, name: string, low: number, high: number, unit = ''): number {
  const n = /^\s*-?\d{1,10}\s*$/.test(value) ? Number(value) : NaN;
  if (!(n >= low && n <= high)) {
    fail(
      'InvalidArgument',
      `The value of ${name} should between ${low} and ${high}${unit ? ' ' + unit : ''}.`,
    );
  }
  return n;
}

const ATTRIBUTE_RANGES: readonly [keyof QueueAttributes, string, number, number, string][] = [
  ['delaySeconds', 'DelaySeconds', 0, 604800, 'seconds'],
  ['maximumMessageSize', 'MaximumMessageSize', 1024, 65536, 'bytes'],
  ['messageRetentionPeriod', 'MessageRetentionPeriod', 60, 604800, 'seconds'],
  ['visibilityTimeout', 'VisibilityTimeout', 1, 43200, 'seconds'],
  ['pollingWaitSeconds', 'PollingWaitSeconds', 0, 30, 'seconds'],
];

export function parseAttributes(body: string): Partial<QueueAttributes> {
  if (body.trim() === '') return {};
  const element = parseBody(body, 'Queue');
  const out: Partial<QueueAttributes> = {};
  for (const [key, name, low, high, unit] of ATTRIBUTE_RANGES) {
    const text = childText(element, name);
    if (text !== undefined) (out as Record<string, number>)[key] = integerIn(text, name, low, high, unit);
  }
  const logging = childText(element, 'LoggingEnabled');
  if (logging !== undefined) {
    const value = logging.trim().toLowerCase();
    if (value !== 'true' && value !== 'false')
      fail('InvalidArgument', 'The value of LoggingEnabled should be True or False.');
    out.loggingEnabled = value === 'true';
  }
  return out;
}

export function sameAttributes(a: QueueAttributes, b: QueueAttributes): boolean {
  return (Object.keys(a) as (keyof QueueAttributes)[]).every(key => a[key] === b[key]);
}

export interface SendInput {
  readonly body: string;
  readonly priority: number;
  readonly delaySeconds: number | undefined;
}

/** Validates one <Message>; Go always sends Priority 0 and DelaySeconds 0 for "unset". */
export function readMessage(element: XmlElement, queue: EmulatedQueue): SendInput {
  const body = childText(element, 'MessageBody');
  if (body === undefined) fail('InvalidArgument', 'The MessageBody is required.');
  const size = Buffer.byteLength(body, 'utf8');
  const max = queue.attributes.maximumMessageSize;
  if (size > max) fail('InvalidArgument', `The length of MessageBody should between 1 and ${max} bytes.`);
  const priorityText = childText(element, 'Priority');
  let priority = priorityText === undefined ? 8 : integerIn(priorityText, 'Priority', 0, 16);
  if (priority === 0) priority = 8;
  const delayText = childText(element, 'DelaySeconds');
  const delaySeconds =
    delayText === undefined ? undefined : integerIn(delayText, 'DelaySeconds', 0, 604800, 'seconds');
  return { body, priority, delaySeconds };
}
