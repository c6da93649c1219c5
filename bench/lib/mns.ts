// The official @alicloud/mns client, typed for the calls the baseline and the emulator ceiling make.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { COUNT_HANDLER } from './daemon-process.js';

export interface MnsReply {
  readonly code: number;
  readonly body: unknown;
}

export interface MnsClient {
  batchReceiveMessage(queue: string, n: number, waitSeconds?: number): Promise<MnsReply>;
  batchDeleteMessage(queue: string, handles: string[]): Promise<MnsReply>;
  deleteMessage(queue: string, handle: string): Promise<MnsReply>;
}

type MnsCtor = new (accountId: string, opts: Record<string, string>) => MnsClient;
const MNSClient = createRequire(import.meta.url)('@alicloud/mns') as MnsCtor;

export interface SmqTarget {
  readonly endpoint: string;
  readonly accountId: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
}

/** Just the endpoint and keys of `from` (an emulator handle, say), for a child process's config. */
export function smqTarget(from: SmqTarget): SmqTarget {
  const { endpoint, accountId, accessKeyId, accessKeySecret } = from;
  return { endpoint, accountId, accessKeyId, accessKeySecret };
}

export function mnsClient(target: SmqTarget): MnsClient {
  return new MNSClient(target.accountId, {
    endpoint: target.endpoint,
    accessKeyId: target.accessKeyId,
    accessKeySecret: target.accessKeySecret,
  });
}

/** Receives up to n messages; [] when the queue is empty (the client throws MessageNotExist). */
export async function receive(
  client: MnsClient,
  queue: string,
  n: number,
  waitSeconds: number,
): Promise<Record<string, string>[]> {
  try {
    const reply = await client.batchReceiveMessage(queue, n, waitSeconds);
    return (reply.body as Record<string, string>[] | undefined) ?? [];
  } catch (err) {
    if ((err as Error).name === 'MNSMessageNotExistError') return [];
    throw err;
  }
}

/** The benchmark handler module, as a running process loads it. */
export interface BenchHandler {
  init(options: Record<string, unknown>): void;
  handle(receipt: Record<string, unknown>, ctx: { messageType: string; dedupeKey: string }): Promise<void>;
  close(): Promise<void>;
}

export async function loadCountHandler(): Promise<BenchHandler> {
  const mod = (await import(pathToFileURL(COUNT_HANDLER).href)) as { default: BenchHandler };
  return mod.default;
}
