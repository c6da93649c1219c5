/**
 * A small strict XML reader for SMQ request bodies, and the escaping used when writing replies.
 * Strict on purpose: the official node client does not escape values, so `a<b & c` must be refused
 * as MalformedXML, as the real service does. Namespaces and attributes are accepted and ignored.
 */

export interface XmlElement {
  readonly name: string;
  readonly children: XmlElement[];
  text: string;
}

export class XmlSyntaxError extends Error {}

const MAX_DEPTH = 8;
/** ASCII name characters only: SMQ element names are plain ASCII. Char codes, not regexes: this runs per character. */
function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d;
}
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

class Reader {
  pos = 0;
  constructor(readonly src: string) {}

  fail(what: string): never {
    throw new XmlSyntaxError(`${what} at offset ${this.pos}`);
  }

  startsWith(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }

  skipSpace(): void {
    const src = this.src;
    while (this.pos < src.length) {
      const c = src.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.pos += 1;
    }
  }

  skipPast(marker: string): void {
    const end = this.src.indexOf(marker, this.pos);
    if (end < 0) this.fail(`unterminated construct, expected ${marker}`);
    this.pos = end + marker.length;
  }

  readName(): string {
    const src = this.src;
    const start = this.pos;
    if (!isNameStart(src.charCodeAt(this.pos))) this.fail('expected a name');
    this.pos += 1;
    while (this.pos < src.length && isNameChar(src.charCodeAt(this.pos))) this.pos += 1;
    return src.slice(start, this.pos);
  }

  /** Comments and processing instructions between elements. */
  skipMisc(): void {
    for (;;) {
      this.skipSpace();
      if (this.startsWith('<!--')) this.skipPast('-->');
      else if (this.startsWith('<?')) this.skipPast('?>');
      else return;
    }
  }
}

function decodeEntities(raw: string, reader: Reader): string {
  if (raw.indexOf('&') < 0) return raw;
  return raw.replace(/&([^;&<]*);?/g, (match, ref: string) => {
    if (!match.endsWith(';')) reader.fail('bad entity reference');
    if (ref.startsWith('#x') || ref.startsWith('#X')) {
      const code = /^[0-9a-fA-F]{1,6}$/.test(ref.slice(2)) ? parseInt(ref.slice(2), 16) : NaN;
      if (!(code > 0 && code <= 0x10ffff)) reader.fail('bad character reference');
      return String.fromCodePoint(code);
    }
    if (ref.startsWith('#')) {
      const code = /^[0-9]{1,7}$/.test(ref.slice(1)) ? parseInt(ref.slice(1), 10) : NaN;
      if (!(code > 0 && code <= 0x10ffff)) reader.fail('bad character reference');
      return String.fromCodePoint(code);
    }
    const value = ENTITIES[ref];
    if (value === undefined) reader.fail(`unknown entity &${ref};`);
    return value;
  });
}

function readAttributes(reader: Reader): void {
  const src = reader.src;
  for (;;) {
    const before = reader.pos;
    reader.skipSpace();
    const c = src.charAt(reader.pos);
    if (c === '>' || c === '/' || c === '') return;
    if (reader.pos === before) reader.fail('expected whitespace before attribute');
    reader.readName();
    reader.skipSpace();
    if (src.charAt(reader.pos) !== '=') reader.fail('expected = in attribute');
    reader.pos += 1;
    reader.skipSpace();
    const quote = src.charAt(reader.pos);
    if (quote !== '"' && quote !== "'") reader.fail('expected a quoted attribute value');
    const end = src.indexOf(quote, reader.pos + 1);
    if (end < 0) reader.fail('unterminated attribute value');
    const value = src.slice(reader.pos + 1, end);
    if (value.includes('<')) reader.fail('< in attribute value');
    decodeEntities(value, reader);
    reader.pos = end + 1;
  }
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

function readElement(reader: Reader, depth: number): XmlElement {
  if (depth > MAX_DEPTH) reader.fail('elements nested too deeply');
  const src = reader.src;
  reader.pos += 1; // '<'
  const rawName = reader.readName();
  readAttributes(reader);
  const element: XmlElement = { name: localName(rawName), children: [], text: '' };
  if (reader.startsWith('/>')) {
    reader.pos += 2;
    return element;
  }
  if (src.charAt(reader.pos) !== '>') reader.fail('expected >');
  reader.pos += 1;
  let text = '';
  for (;;) {
    const lt = src.indexOf('<', reader.pos);
    if (lt < 0) reader.fail(`unclosed element <${rawName}>`);
    if (lt > reader.pos) text += decodeEntities(src.slice(reader.pos, lt), reader);
    reader.pos = lt;
    if (reader.startsWith('</')) {
      reader.pos += 2;
      const closing = reader.readName();
      if (closing !== rawName) reader.fail(`</${closing}> does not close <${rawName}>`);
      reader.skipSpace();
      if (src.charAt(reader.pos) !== '>') reader.fail('expected >');
      reader.pos += 1;
      element.text = text;
      return element;
    }
    if (reader.startsWith('<![CDATA[')) {
      const end = src.indexOf(']]>', reader.pos);
      if (end < 0) reader.fail('unterminated CDATA');
      text += src.slice(reader.pos + 9, end);
      reader.pos = end + 3;
    } else if (reader.startsWith('<!--')) {
      reader.skipPast('-->');
    } else if (reader.startsWith('<?')) {
      reader.skipPast('?>');
    } else {
      element.children.push(readElement(reader, depth + 1));
    }
  }
}

/** Parses a whole document and returns its root element; throws XmlSyntaxError on anything malformed. */
export function parseXml(src: string): XmlElement {
  const reader = new Reader(src.charCodeAt(0) === 0xfeff ? src.slice(1) : src);
  reader.skipMisc();
  if (reader.startsWith('<!DOCTYPE')) reader.fail('DOCTYPE is not allowed');
  if (reader.src.charAt(reader.pos) !== '<') reader.fail('expected the root element');
  const root = readElement(reader, 0);
  reader.skipMisc();
  if (reader.pos !== reader.src.length) reader.fail('content after the root element');
  return root;
}

/** The text of the first child named `name`, or undefined. */
export function childText(element: XmlElement, name: string): string | undefined {
  for (const child of element.children) if (child.name === name) return child.text;
  return undefined;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const NEEDS_ESCAPE = /[&<>]/;

/** Escapes element text; most bodies are Base64 and skip the replace entirely. */
export function escapeXml(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(/[&<>]/g, c => ESCAPES[c] as string) : text;
}
