// Example handler (plain JavaScript, no imports, no build): answers inbound messages.
//
// It picks a reply for each inbound message: a keyword match for TEXT, the button payload for REPLY,
// and an acknowledgement for media. Sending is left out so the example runs anywhere; a real handler would
// call CAMS SendChatappMessage here (within the 24 h service window a free-form message is allowed).
//
// Configure it with:
//   { "module": "../examples/handlers/inbound-autoreply.mjs",
//     "options": { "replies": { "price": "Our prices: https://example.com/prices" } } }

const state = { replies: new Map(), fallback: 'Thanks, we received your message.' };

export default {
  name: 'inbound-autoreply',
  messageTypes: ['ChatAppInbound'],

  init(options) {
    state.replies = new Map(
      Object.entries(options.replies ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
    );
    if (typeof options.fallback === 'string') state.fallback = options.fallback;
  },

  async handle(receipt, ctx) {
    const reply = pickReply(receipt, ctx.parsedMessage);
    ctx.logger.info('autoreply chosen', {
      event: 'autoreply_chosen',
      messageId: receipt.MessageId,
      to: receipt.From,
      type: receipt.Type,
      reply,
    });
  },

  // One reply per end user and message: the default key (MessageId) already says that; spelled out here
  // to show the hook. A handler may key on anything stable in the receipt.
  dedupeKey(receipt) {
    return `${receipt.From ?? ''}|${receipt.MessageId}`;
  },
};

function pickReply(receipt, parsed) {
  const type = String(receipt.Type ?? '').toUpperCase();
  if (type === 'TEXT') {
    const text = String(receipt.Message ?? '').toLowerCase();
    for (const [keyword, reply] of state.replies) if (text.includes(keyword)) return reply;
    return state.fallback;
  }
  if (type === 'REPLY' && parsed && typeof parsed.payload === 'string') return `You chose: ${parsed.payload}`;
  return state.fallback;
}
