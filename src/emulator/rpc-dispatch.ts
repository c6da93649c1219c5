import { randomUUID } from 'node:crypto';
import type { FaultInjector } from './faults.js';
import { errorJson, type RpcReply } from './pop-rpc.js';
import type { TokenApi } from './rpc.js';
import { STS_ACTIONS, type StsApi } from './sts-api.js';
import { sleep } from '../util/async.js';

/** Every RPC arrives at `/`: faults first, then STS actions to the fake STS and the rest to Dybaseapi. */
export class RpcDispatcher {
  constructor(
    private readonly faults: FaultInjector,
    private readonly tokenApi: TokenApi,
    private readonly stsApi: StsApi,
  ) {}

  async handle(
    method: string,
    params: ReadonlyMap<string, string>,
    host: string,
  ): Promise<{ reply: RpcReply; drop: boolean }> {
    const action = params.get('Action') ?? 'Unknown';
    const latency = this.faults.latencyFor(action);
    if (latency > 0) await sleep(latency);
    const sts = STS_ACTIONS.has(action);
    const outcome = this.faults.outcomeFor(action);
    const product = sts ? 'Sts' : 'Dybaseapi';
    let reply: RpcReply;
    if (outcome === 'throttle') {
      reply = failure(429, host, 'Throttling.User', 'Request was denied due to user flow control.', product);
    } else if (outcome === 'server-error') {
      const message = 'The request has failed due to a temporary failure of the server.';
      reply = failure(503, host, 'ServiceUnavailable', message, product);
    } else {
      reply = sts ? this.stsApi.handle(method, params, host) : this.tokenApi.handle(method, params, host);
    }
    return { reply, drop: this.faults.dropFor(action) };
  }
}

function failure(status: number, host: string, code: string, message: string, product: string): RpcReply {
  return { status, json: errorJson(randomUUID().toUpperCase(), host, code, message, product) };
}
