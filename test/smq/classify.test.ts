import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SmqError, StoreError, TokenError } from '../../src/errors.js';
import { classifyCode, classifyLoopError, classifyStatus, toSmqError } from '../../src/smq/classify.js';
import { toTokenError } from '../../src/smq/token-provider.js';

/** An error shaped like the ones `@alicloud/mns` throws. */
function mnsError(code: string, status: number): Error {
  const err = new Error(
    `GET http://127.0.0.1/queues/q/messages failed with ${status}. requestid: X, hostid: h, message: m`,
  );
  err.name = `MNS${code}Error`;
  return err;
}

test('SMQ codes map to the documented classes', () => {
  const cases: [string, number, string][] = [
    ['MessageNotExist', 404, 'empty'],
    ['QueueNotExist', 404, 'queue_missing'],
    ['TooManyRequests', 429, 'throttled'],
    ['QpsLimitExceeded', 400, 'throttled'],
    ['AccessDenied', 403, 'auth'],
    ['InvalidAccessKeyId', 403, 'auth'],
    ['SignatureDoesNotMatch', 403, 'auth'],
    ['TimeExpired', 408, 'auth'],
    ['SecurityTokenExpired', 400, 'auth'],
    ['InternalError', 500, 'server'],
    ['InvalidArgument', 400, 'client'],
    ['SomethingNew', 503, 'server'],
    ['SomethingNew', 429, 'throttled'],
  ];
  for (const [code, status, expected] of cases) {
    const err = toSmqError(mnsError(code, status), 'receive');
    assert.equal(err.errorClass, expected, code);
    assert.equal(err.smqCode, code);
  }
});

test('socket failures and timeouts are network errors', () => {
  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  const hangUp = new Error('socket hang up');
  const timeout = new Error('ReadTimeout(40000)');
  timeout.name = 'RequestTimeoutError';
  for (const err of [reset, refused, hangUp, timeout]) {
    assert.equal(toSmqError(err, 'receive').errorClass, 'network', err.message);
  }
});

test('HTTP statuses without a code, and unparsable replies, are classified', () => {
  assert.equal(classifyStatus(429), 'throttled');
  assert.equal(classifyStatus(502), 'server');
  assert.equal(classifyStatus(403), 'auth');
  assert.equal(classifyStatus(400), 'client');
  assert.equal(toSmqError(new Error('Non-whitespace before first tag.'), 'receive').errorClass, 'server');
  assert.equal(toSmqError('weird', 'receive').errorClass, 'server');
});

test('POP codes for the token call are classified by prefix', () => {
  assert.equal(classifyCode('InvalidAccessKeyId.NotFound'), 'auth');
  assert.equal(classifyCode('SignatureDoesNotMatch'), 'auth');
  // An STS pair sent without, or with a stale, security token.
  assert.equal(classifyCode('MissingSecurityToken'), 'auth');
  assert.equal(classifyCode('InvalidSecurityToken.Expired'), 'auth');
  assert.equal(classifyCode('Throttling.User'), 'throttled');
  assert.equal(classifyCode('InternalError'), 'server');
  assert.equal(classifyCode('MissingParameter'), 'client');
});

test('token errors never carry the signed URL', () => {
  const pop = Object.assign(new Error('bad, URL: http://x/?AccessKeyId=ak&Signature=abc'), {
    name: 'SignatureDoesNotMatchError',
    code: 'SignatureDoesNotMatch',
    data: { Message: 'Specified signature is not matched' },
  });
  const e1 = toTokenError(pop);
  assert.equal(e1.errorClass, 'auth');
  assert.doesNotMatch(e1.message, /AccessKeyId=|Signature=abc/);
  const net = Object.assign(
    new Error('connect ECONNREFUSEDGET http://h/?AccessKeyId=ak&Signature=s failed.'),
    {
      code: 'ECONNREFUSED',
    },
  );
  const e2 = toTokenError(net);
  assert.equal(e2.errorClass, 'network');
  assert.doesNotMatch(e2.message, /Signature=s|AccessKeyId=ak/);
  // json-bigint throws a plain object on a non-JSON reply
  assert.equal(toTokenError({ name: 'SyntaxError', message: 'Unexpected' }).errorClass, 'server');
});

test('loop errors keep their class; store and unknown errors get their own', () => {
  assert.equal(classifyLoopError(new SmqError('x', 'throttled')), 'throttled');
  assert.equal(classifyLoopError(new TokenError('x', 'auth')), 'auth');
  assert.equal(classifyLoopError(new StoreError('redis down')), 'store');
  assert.equal(classifyLoopError(new TypeError('bug')), 'unexpected');
});
