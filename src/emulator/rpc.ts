import { randomUUID } from 'node:crypto';
import type { Broker } from './broker.js';
import { popReply, reject, type RpcReply, type RpcVerifier } from './pop-rpc.js';
import { formatShanghaiTime } from './tokens.js';

/**
 * The Dybaseapi RPC `QueryTokenForMnsQueue` (version 2017-05-25), as `@alicloud/pop-core` calls it:
 * GET with the parameters in the query, or POST with a form body (spec §10). Answers are POP JSON.
 * It may be signed with a configured AccessKey or with a role session from the fake STS.
 */
export interface RpcContext {
  readonly broker: Broker;
  readonly verifier: RpcVerifier;
}

const API_VERSION = '2017-05-25';

export class TokenApi {
  constructor(private readonly context: RpcContext) {}

  handle(method: string, params: ReadonlyMap<string, string>, hostId: string): RpcReply {
    return popReply(randomUUID().toUpperCase(), hostId, 'Dybaseapi', () => ({
      Code: 'OK',
      Message: 'OK',
      ...this.query(method, params),
    }));
  }

  private query(method: string, params: ReadonlyMap<string, string>): Record<string, unknown> {
    const action = params.get('Action');
    if (!action) reject(400, 'MissingAction', 'Action is mandatory for this action.');
    if (action !== 'QueryTokenForMnsQueue') {
      reject(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
    }
    const signer = this.context.verifier.verify(method, params, API_VERSION);
    const calls = this.context.broker.tokenCallsBySigner;
    calls.set(signer, (calls.get(signer) ?? 0) + 1);
    const messageType = params.get('MessageType');
    if (!messageType) reject(400, 'MissingMessageType', 'MessageType is mandatory for this action.');
    const broker = this.context.broker;
    const declared = broker.queuesForType(messageType);
    const queueName = params.get('QueueName');
    if (queueName !== undefined && queueName !== '' && !declared.includes(queueName)) {
      reject(
        400,
        'InvalidParameter.QueueName',
        `The queue ${queueName} is not declared for MessageType ${messageType}.`,
      );
    }
    if (declared.length === 0) {
      reject(400, 'InvalidParameter.MessageType', `No queue is declared for MessageType ${messageType}.`);
    }
    const token = broker.tokens.issue(messageType, queueName ? [queueName] : declared);
    return {
      MessageTokenDTO: {
        AccessKeyId: token.accessKeyId,
        AccessKeySecret: token.accessKeySecret,
        SecurityToken: token.securityToken,
        CreateTime: formatShanghaiTime(token.createTimeMs),
        ExpireTime: formatShanghaiTime(token.expireAtMs),
      },
    };
  }
}
