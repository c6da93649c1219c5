import { createHash, createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { httpExchange } from '../helpers/http.js';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../src/emulator/index.js';

const require = createRequire(import.meta.url);

/** The slice of the official `@alicloud/mns` client the tests use (it ships no types). */
type MnsReply = Promise<{ code: number; headers: Record<string, string>; body: unknown }>;
type Handle = string | undefined;
export interface MnsClient {
  createQueue(name: string, attributes?: Record<string, unknown>): MnsReply;
  deleteQueue(name: string): MnsReply;
  listQueue(start?: string, limit?: number, prefix?: string): MnsReply;
  getQueueAttributes(name: string): MnsReply;
  setQueueAttributes(name: string, attributes?: Record<string, unknown>): MnsReply;
  sendMessage(queue: string, message: Record<string, unknown>): MnsReply;
  batchSendMessage(queue: string, messages: Record<string, unknown>[]): MnsReply;
  receiveMessage(queue: string, waitSeconds?: number): MnsReply;
  batchReceiveMessage(queue: string, count: number | string, waitSeconds?: number): MnsReply;
  peekMessage(queue: string): MnsReply;
  batchPeekMessage(queue: string, count: number): MnsReply;
  deleteMessage(queue: string, receiptHandle: Handle): MnsReply;
  batchDeleteMessage(queue: string, receiptHandles: Handle[]): MnsReply;
  changeMessageVisibility(queue: string, receiptHandle: Handle, visibilityTimeoutSeconds: number): MnsReply;
}
type MnsClientCtor = new (
  accountId: string,
  opts: { endpoint: string; accessKeyId: string; accessKeySecret: string; securityToken?: string },
) => MnsClient;
export const MNSClient = require('@alicloud/mns') as MnsClientCtor;

export interface TokenDto {
  AccessKeyId: string;
  AccessKeySecret: string;
  SecurityToken: string;
  CreateTime: string;
  ExpireTime: string;
}
interface DybaseapiClient {
  queryTokenForMnsQueue(
    params: Record<string, string>,
    options?: Record<string, unknown>,
  ): Promise<{ Code: string; MessageTokenDTO: TokenDto }>;
}
type DybaseapiCtor = new (config: {
  accessKeyId: string;
  accessKeySecret: string;
  endpoint: string;
}) => DybaseapiClient;
export const Dybaseapi = require('@alicloud/dybaseapi') as DybaseapiCtor;

export type Message = Record<string, string>;

/** Starts an emulator on a free port with no default queues unless given. */
export function start(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  return startEmulator({ port: 0, ...options });
}

export function keyClient(emulator: EmulatorHandle): MnsClient {
  return new MNSClient(emulator.accountId, {
    endpoint: emulator.endpoint,
    accessKeyId: emulator.accessKeyId,
    accessKeySecret: emulator.accessKeySecret,
  });
}

export function tokenClient(emulator: EmulatorHandle, secret = emulator.accessKeySecret): DybaseapiClient {
  return new Dybaseapi({
    accessKeyId: emulator.accessKeyId,
    accessKeySecret: secret,
    endpoint: emulator.endpoint,
  });
}

export function stsClient(emulator: EmulatorHandle, token: TokenDto): MnsClient {
  return new MNSClient(emulator.accountId, {
    endpoint: emulator.endpoint,
    accessKeyId: token.AccessKeyId,
    accessKeySecret: token.AccessKeySecret,
    securityToken: token.SecurityToken,
  });
}

/** Resolves to the error a promise rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected the call to fail');
}

export function md5Upper(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex').toUpperCase();
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface RawRequest {
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Sign with this pair (default the emulator's key); `false` sends no Authorization header. */
  sign?: { accessKeyId: string; accessKeySecret: string } | false;
}

/**
 * A hand-signed MNS request, for inputs the official client cannot produce (bad XML, huge bodies,
 * odd parameters). Signing follows the documented V2 scheme independently of the emulator's code.
 */
export function rawMns(emulator: EmulatorHandle, req: RawRequest): Promise<RawReply> {
  const body =
    req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
  const date = new Date().toUTCString();
  const headers: Record<string, string> = {
    date,
    'x-mns-date': date,
    'x-mns-version': '2015-06-06',
    ...req.headers,
  };
  if (body) {
    headers['content-type'] ??= 'text/xml';
    headers['content-length'] = String(body.length);
  }
  const sign = req.sign ?? { accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret };
  if (sign) {
    const mnsHeaders = Object.keys(headers)
      .filter(k => k.startsWith('x-mns-'))
      .sort()
      .map(k => `${k}:${headers[k]}\n`)
      .join('');
    const toSign = `${req.method}\n${headers['content-md5'] ?? ''}\n${headers['content-type'] ?? ''}\n${headers['date'] ?? ''}\n${mnsHeaders}${req.path}`;
    const signature = createHmac('sha1', sign.accessKeySecret).update(toSign).digest('base64');
    headers['authorization'] = `MNS ${sign.accessKeyId}:${signature}`;
  }
  return rawHttp(emulator, req.method, req.path, headers, body);
}

export function rawHttp(
  emulator: EmulatorHandle,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<RawReply> {
  return httpExchange({ port: emulator.port, path }, { method, headers }, body);
}

/** The Code element of an `<Error>` body. */
export function errorCode(xml: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
}

export async function control(
  emulator: EmulatorHandle,
  method: string,
  path: string,
  json?: unknown,
): Promise<RawReply & { json: unknown }> {
  const body = json === undefined ? undefined : JSON.stringify(json);
  const reply = await rawHttp(
    emulator,
    method,
    `/_emulator${path}`,
    body ? { 'content-type': 'application/json' } : {},
    body,
  );
  return { ...reply, json: JSON.parse(reply.body) as unknown };
}
