import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { secretMatcher } from './guards.js';

export interface DashboardOptions {
  /** The BullMQ queues to show (the pipeline's `queues.all()`). */
  readonly queues: readonly Queue[];
  /** Basic-auth credentials; both must be non-empty. */
  readonly username: string;
  readonly password: string;
  /** No retry, clean, pause or delete buttons. */
  readonly readOnly: boolean;
  /** @defaultValue '/admin' */
  readonly basePath?: string;
}

const REALM = 'Basic realm="cams-receipts", charset="UTF-8"';

/**
 * bull-board at `basePath`, behind HTTP basic auth. Registered in its own encapsulated scope, so the
 * auth hook and bull-board's error handler touch no other route.
 */
export async function registerDashboard(app: FastifyInstance, opts: DashboardOptions): Promise<void> {
  if (!opts.username || !opts.password) {
    throw new TypeError('the dashboard needs a username and a password');
  }
  const basePath = (opts.basePath ?? '/admin').replace(/\/+$/, '');
  const names = opts.queues.map(q => q.name);
  const shared = new Set(names.filter((n, i) => names.indexOf(n) !== i));
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: opts.queues.map(
      queue =>
        new BullMQAdapter(queue, {
          readOnlyMode: opts.readOnly,
          allowRetries: !opts.readOnly,
          // With redis.partitions > 1 a type has a queue per partition: the partition's prefix tells them apart.
          prefix: shared.has(queue.name) ? `${queue.opts.prefix ?? ''}:` : '',
        }),
    ),
    // The adapter package pins its own copy of @bull-board/api; the interface is the same.
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'cams-receipts' } },
  });
  const check = basicAuth(opts.username, opts.password);
  await app.register(async scope => {
    scope.addHook('onRequest', check);
    await scope.register(serverAdapter.registerPlugin(), { prefix: basePath });
  });
}

/** An onRequest hook answering 401 unless the request carries the credentials. */
export function basicAuth(username: string, password: string) {
  const matches = secretMatcher(`${username}:${password}`);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (matches(credentialsOf(request.headers.authorization))) return;
    await reply
      .code(401)
      .header('www-authenticate', REALM)
      .header('cache-control', 'no-store')
      .send({ error: 'Unauthorized', message: 'the dashboard needs a username and a password' });
  };
}

function credentialsOf(header: string | undefined): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  return Buffer.from(match[1], 'base64').toString('utf8');
}
