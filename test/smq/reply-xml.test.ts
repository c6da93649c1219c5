import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { readReplyXml } from '../../src/smq/reply-xml.js';

const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS = 'xmlns="http://mns.aliyuncs.com/doc/v1/"';

// The client's own parser and value extraction: the fast reader must agree with them.
const requireFromMns = createRequire(createRequire(import.meta.url).resolve('@alicloud/mns'));
const helper = requireFromMns('./lib/helper') as {
  parseXML(text: string): Promise<Record<string, Record<string, unknown>>>;
  extract(value: unknown): unknown;
};

function message(id: string, body: string): string {
  return (
    `<Message><MessageId>${id}</MessageId><ReceiptHandle>8-${id}</ReceiptHandle>` +
    `<MessageBodyMD5>ABC</MessageBodyMD5><MessageBody>${body}</MessageBody>` +
    `<EnqueueTime>1716809414944</EnqueueTime><FirstDequeueTime>1716809414944</FirstDequeueTime>` +
    `<NextVisibleTime>1716809444944</NextVisibleTime><DequeueCount>1</DequeueCount><Priority>8</Priority></Message>`
  );
}

test('a <Messages> reply reads as the client reads it', async () => {
  const xml = `${HEAD}<Messages ${NS}>\n  ${message('A1', 'eyJhIjoxfQ==')}\n  ${message('A2', 'x &amp; y &lt;z&gt; &#65;&#x42;')}\n</Messages>`;
  const reply = readReplyXml(xml);
  assert.equal(reply?.root, 'Messages');
  const general = await helper.parseXML(xml);
  const expected = helper.extract(general['Messages']?.['Message']);
  assert.deepEqual(reply.messages, expected);
  assert.equal(reply.messages[1]?.['MessageBody'], 'x & y <z> AB');
});

test('an empty element reads as an empty string', () => {
  const reply = readReplyXml(`${HEAD}<Messages ${NS}>${message('E', '')}</Messages>`);
  assert.equal(reply?.root === 'Messages' && reply.messages[0]?.['MessageBody'], '');
});

test('an <Error> reply gives its four fields', () => {
  const reply = readReplyXml(
    `${HEAD}<Error ${NS}><Code>MessageNotExist</Code><Message>no message</Message>` +
      `<RequestId>5B6C0E2F2C4E8A0012345678</RequestId><HostId>http://h</HostId></Error>`,
  );
  assert.deepEqual(reply, {
    root: 'Error',
    error: {
      Code: 'MessageNotExist',
      Message: 'no message',
      RequestId: '5B6C0E2F2C4E8A0012345678',
      HostId: 'http://h',
    },
  });
});

test('anything outside the two flat shapes is left to the general parser', () => {
  const cases = {
    'another root': `${HEAD}<Queue ${NS}><QueueName>q</QueueName></Queue>`,
    'an attribute on a child': `${HEAD}<Messages ${NS}><Message id="1"><MessageId>1</MessageId></Message></Messages>`,
    'a nested element': `${HEAD}<Messages ${NS}><Message><MessageBody><b>x</b></MessageBody></Message></Messages>`,
    CDATA: `${HEAD}<Messages ${NS}><Message><MessageBody><![CDATA[x]]></MessageBody></Message></Messages>`,
    'a comment': `${HEAD}<Messages ${NS}><!-- c -->${message('C', 'x')}</Messages>`,
    'a repeated child': `${HEAD}<Messages ${NS}><Message><MessageId>1</MessageId><MessageId>2</MessageId></Message></Messages>`,
    'a bare ampersand': `${HEAD}<Messages ${NS}>${message('D', 'a & b')}</Messages>`,
    'text after the root': `${HEAD}<Messages ${NS}>${message('T', 'x')}</Messages>trailing`,
    'no messages': `${HEAD}<Messages ${NS}></Messages>`,
    'an unclosed message': `${HEAD}<Messages ${NS}><Message><MessageId>1</MessageId></Messages>`,
  };
  for (const [name, xml] of Object.entries(cases)) assert.equal(readReplyXml(xml), undefined, name);
});
