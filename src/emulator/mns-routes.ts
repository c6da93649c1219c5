import type { Principal } from './auth.js';
import { fail } from './mns-errors.js';

export type MnsAction =
  | 'CreateQueue'
  | 'SetQueueAttributes'
  | 'GetQueueAttributes'
  | 'DeleteQueue'
  | 'ListQueue'
  | 'SendMessage'
  | 'BatchSendMessage'
  | 'ReceiveMessage'
  | 'BatchReceiveMessage'
  | 'PeekMessage'
  | 'BatchPeekMessage'
  | 'DeleteMessage'
  | 'BatchDeleteMessage'
  | 'ChangeMessageVisibility';

export interface MnsRoute {
  readonly action: MnsAction;
  readonly queueName: string;
}

/** What STS tokens from QueryTokenForMnsQueue may do, and only on their own queues. */
const STS_ACTIONS: ReadonlySet<MnsAction> = new Set<MnsAction>([
  'GetQueueAttributes',
  'ReceiveMessage',
  'BatchReceiveMessage',
  'PeekMessage',
  'BatchPeekMessage',
  'DeleteMessage',
  'BatchDeleteMessage',
  'ChangeMessageVisibility',
]);

/** Maps method + path + query to an operation, or throws InvalidRequestURL. */
export function routeMns(
  method: string,
  path: string,
  query: ReadonlyMap<string, string>,
  body: string,
): MnsRoute {
  const parts = path.split('/');
  // ['', 'queues', name?, 'messages'?]
  if (parts[1] !== 'queues' || parts.length > 4) fail('InvalidRequestURL');
  const queueName = parts[2] ?? '';
  if (queueName === '') {
    if (method === 'GET') return { action: 'ListQueue', queueName };
    fail('InvalidRequestURL');
  }
  if (parts.length === 3) {
    if (method === 'PUT') {
      const override = query.get('metaoverride');
      return { action: override?.toLowerCase() === 'true' ? 'SetQueueAttributes' : 'CreateQueue', queueName };
    }
    if (method === 'GET') return { action: 'GetQueueAttributes', queueName };
    if (method === 'DELETE') return { action: 'DeleteQueue', queueName };
    fail('InvalidRequestURL');
  }
  if (parts[3] !== 'messages') fail('InvalidRequestURL');
  switch (method) {
    case 'POST':
      return {
        action: /<(?:\w+:)?Messages[\s>/]/.test(body) ? 'BatchSendMessage' : 'SendMessage',
        queueName,
      };
    case 'GET': {
      const batch = query.has('numofmessages');
      if (query.get('peekonly')?.toLowerCase() === 'true') {
        return { action: batch ? 'BatchPeekMessage' : 'PeekMessage', queueName };
      }
      return { action: batch ? 'BatchReceiveMessage' : 'ReceiveMessage', queueName };
    }
    case 'DELETE':
      return { action: query.has('receipthandle') ? 'DeleteMessage' : 'BatchDeleteMessage', queueName };
    case 'PUT':
      return { action: 'ChangeMessageVisibility', queueName };
    default:
      fail('InvalidRequestURL');
  }
}

export function authorize(principal: Principal, route: MnsRoute): void {
  if (principal.kind === 'key') return;
  if (!STS_ACTIONS.has(route.action) || !principal.token.queueNames.includes(route.queueName))
    fail('AccessDenied');
}
