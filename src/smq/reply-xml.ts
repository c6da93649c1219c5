/**
 * A strict, small reader for the two reply shapes a receive gets: `<Messages>` of flat `<Message>`
 * elements, and `<Error>`. It stands in for the client's general XML parser (xml2js on sax), which
 * costs far more per message than the rest of the receive. Anything outside those exact shapes
 * (attributes on children, nesting, CDATA, comments) makes it return undefined, and the caller falls
 * back to the general parser, so unusual replies are read exactly as before.
 */

/** Flat elements as `@alicloud/mns` returns them: every value a string. */
export type FlatElement = Record<string, string>;

export type ReplyXml =
  | { readonly root: 'Messages'; readonly messages: FlatElement[] }
  | { readonly root: 'Error'; readonly error: FlatElement };

const DECLARATION = /^\s*<\?xml[^>]*\?>/;
const ROOT_OPEN = /^\s*<(\w+)(\s[^>]*)?>/;
const CHILD = /<(\w+)>([^<]*)<\/\1>|<(\w+)\/>/y;
const ENTITY = /&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g;
const NAMED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function readReplyXml(text: string): ReplyXml | undefined {
  const afterDeclaration = text.replace(DECLARATION, '');
  const open = ROOT_OPEN.exec(afterDeclaration);
  const root = open?.[1];
  if (!open || (root !== 'Messages' && root !== 'Error')) return undefined;
  const close = `</${root}>`;
  const end = afterDeclaration.lastIndexOf(close);
  if (end < 0 || afterDeclaration.slice(end + close.length).trim() !== '') return undefined;
  const inner = afterDeclaration.slice(open[0].length, end);
  if (root === 'Error') {
    const error = readFlat(inner);
    return error ? { root, error } : undefined;
  }
  const messages: FlatElement[] = [];
  let at = 0;
  for (;;) {
    const start = inner.indexOf('<Message>', at);
    if (start < 0) break;
    if (inner.slice(at, start).trim() !== '') return undefined;
    const stop = inner.indexOf('</Message>', start);
    if (stop < 0) return undefined;
    const message = readFlat(inner.slice(start + '<Message>'.length, stop));
    if (!message) return undefined;
    messages.push(message);
    at = stop + '</Message>'.length;
  }
  if (inner.slice(at).trim() !== '' || messages.length === 0) return undefined;
  return { root, messages };
}

/** `<A>text</A><B/>…` with nothing else between the elements but whitespace; undefined otherwise. */
function readFlat(xml: string): FlatElement | undefined {
  const out: FlatElement = {};
  let at = 0;
  while (at < xml.length) {
    while (at < xml.length && isSpace(xml.charCodeAt(at))) at += 1;
    if (at >= xml.length) break;
    CHILD.lastIndex = at;
    const m = CHILD.exec(xml);
    if (!m) return undefined;
    const name = (m[1] ?? m[3]) as string;
    // A repeated child would be an array in the general parser: not a flat element.
    if (Object.hasOwn(out, name)) return undefined;
    const value = m[1] ? decode(m[2] ?? '') : '';
    if (value === undefined) return undefined;
    out[name] = value;
    at = CHILD.lastIndex;
  }
  return out;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/** Text with its entities decoded; undefined for a bare `&` or a bad character reference. */
function decode(text: string): string | undefined {
  if (!text.includes('&')) return text;
  if (text.replace(ENTITY, '').includes('&')) return undefined;
  try {
    return text.replace(ENTITY, (_, entity: string) => {
      if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
      if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
      return NAMED[entity] ?? '';
    });
  } catch {
    return undefined;
  }
}
