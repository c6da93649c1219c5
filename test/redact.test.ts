import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../src/observability/logger.js';
import { REDACTED, redact, redactText } from '../src/observability/redact.js';

test('redact replaces secret-named fields at any depth and keeps the rest', () => {
  const out = redact({
    credentials: { accessKeyId: 'LTAIabc', accessKeySecret: 's3cret' },
    token: { SecurityToken: 'CAIS...' },
    queueName: 'q1',
  });
  assert.deepEqual(out, {
    credentials: { accessKeyId: REDACTED, accessKeySecret: REDACTED },
    token: { SecurityToken: REDACTED },
    queueName: 'q1',
  });
});

test('redactText scrubs signatures and tokens in free text', () => {
  const text = redactText('Authorization: MNS LTAIabc:Zm9vYmFy= and ?Signature=abc%2F&SecurityToken=CAIS123');
  assert.doesNotMatch(text, /LTAIabc|Zm9vYmFy|abc%2F|CAIS123/);
  // A string-to-sign quoted in an STS error reply has its parameters percent-encoded.
  const quoted = redactText(
    'string to sign is: POST&%2F&AccessKeyId%3DLTAIxyz%26SecurityToken%3DCAIS%252Fq%26Version%3D1',
  );
  assert.doesNotMatch(quoted, /LTAIxyz|CAIS/);
  assert.match(quoted, /%26Version%3D1$/);
});

test('the logger never writes a secret', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ level: 'info', format: 'json' }, sink);
  logger.info('token refreshed', {
    event: 'token_refreshed',
    accessKeySecret: 'topsecret',
    securityToken: 'CAIS999',
  });
  await new Promise(r => setImmediate(r));
  assert.equal(lines.length, 1);
  assert.doesNotMatch(lines[0] ?? '', /topsecret|CAIS999/);
  assert.match(lines[0] ?? '', /token_refreshed/);
});
