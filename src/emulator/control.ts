import type { Broker, EmulatorStats, InjectRequest, InjectResult, QueueDeclaration } from './broker.js';
import { NO_FAULTS, parseFaults, type FaultSettings } from './faults.js';
import type { GeneratorSettings, ReceiptGenerator } from './generator.js';
import { errorMessage } from '../util/error-message.js';

/** Served at GET /_emulator/ so an operator can discover the API. */
export const CONTROL_ENDPOINTS = [
  'GET /_emulator/stats',
  'GET /_emulator/queues',
  'POST /_emulator/queues {messageType, queueName}',
  'POST /_emulator/inject {queueName?, messageType?, bodies?, receipts?, count?, duplicateRatio?, priority?, delaySeconds?}',
  'GET|PUT|PATCH /_emulator/faults {latencyMs, latencyJitterMs, serverErrorRatio, throttleRatio, dropConnectionRatio, tokenEarlyExpirySeconds, actions}',
  'GET|PUT /_emulator/tokens {ttlSeconds}',
  'POST /_emulator/tokens/expire',
  'GET|PUT /_emulator/sts {ttlSeconds} (role sessions; null: as asked)',
  'POST /_emulator/sts/expire',
  'GET|PUT|PATCH /_emulator/generator {ratePerSecond, duplicateRatio}',
  'POST /_emulator/reset',
];

export interface ControlReply {
  readonly status: number;
  readonly json: unknown;
}

/**
 * Run-time control of the emulator: the in-process handle and the unauthenticated JSON API under
 * /_emulator/ both go through this class, so they cannot drift apart.
 */
export class EmulatorControl {
  constructor(
    private readonly broker: Broker,
    private readonly generator: ReceiptGenerator,
  ) {}

  stats(): EmulatorStats {
    return this.broker.stats();
  }

  declarations(): QueueDeclaration[] {
    return this.broker.declarations.map(d => ({ ...d }));
  }

  declareQueue(messageType: string, queueName: string): void {
    this.broker.declare(messageType, queueName);
  }

  inject(request: InjectRequest): Promise<InjectResult> {
    return this.broker.inject(request);
  }

  faults(): FaultSettings {
    const f = this.broker.faults.settings;
    return { ...f, actions: [...f.actions] };
  }

  /** Replaces the fault set; fields left out are switched off. */
  setFaults(faults: Partial<FaultSettings>): FaultSettings {
    this.broker.faults.set(parseFaults(faults, NO_FAULTS));
    return this.faults();
  }

  /** Changes only the given fault fields. */
  updateFaults(faults: Partial<FaultSettings>): FaultSettings {
    this.broker.faults.set(parseFaults(faults, this.broker.faults.settings));
    return this.faults();
  }

  /** Makes every STS token issued so far fail with SecurityTokenExpired; returns how many were live. */
  expireTokens(): number {
    return this.broker.tokens.expireAll();
  }

  /** Lifetime of tokens issued from now on. */
  setTokenTtl(seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86400)
      throw new Error('ttlSeconds must be 1..86400');
    this.broker.tokens.ttlSeconds = seconds;
  }

  /** Makes every role session (fake STS, metadata) issued so far fail; returns how many were live. */
  expireRoleSessions(): number {
    return this.broker.sessions.expireAll();
  }

  /** Lifetime of role sessions issued from now on; undefined: as the caller asked. */
  setRoleSessionTtl(seconds: number | undefined): void {
    if (seconds !== undefined && (!Number.isInteger(seconds) || seconds < 1 || seconds > 43200))
      throw new Error('ttlSeconds must be 1..43200 or null');
    this.broker.sessions.ttlSeconds = seconds;
  }

  private stsReply(): ControlReply {
    return {
      status: 200,
      json: { ttlSeconds: this.broker.sessions.ttlSeconds ?? null, ...this.broker.sessions.stats() },
    };
  }

  generatorSettings(): GeneratorSettings {
    return { ...this.generator.settings };
  }

  configureGenerator(settings: Partial<GeneratorSettings>): GeneratorSettings {
    this.generator.configure(settings);
    return this.generatorSettings();
  }

  /**
   * Back to a clean slate: every queue is emptied, undeclared queues are removed, declared ones are
   * recreated, faults are switched off and counters zeroed. Tokens, role sessions and the generator
   * stay as they are.
   */
  reset(): void {
    const broker = this.broker;
    const declared = new Set(broker.declarations.map(d => d.queueName));
    for (const name of [...broker.queues.keys()]) {
      if (!declared.has(name)) broker.deleteQueue(name);
    }
    for (const queue of broker.queues.values()) queue.purge();
    for (const d of broker.declarations) broker.declare(d.messageType, d.queueName);
    broker.faults.set(parseFaults({}, NO_FAULTS));
    Object.assign(broker.faults.counters, { delayed: 0, throttled: 0, serverErrors: 0, dropped: 0 });
    broker.requests = 0;
    broker.tokenCallsBySigner.clear();
    broker.generated = 0;
    broker.duplicatesGenerated = 0;
  }

  /** The JSON API. `path` is what follows /_emulator. */
  async handleHttp(method: string, path: string, body: string): Promise<ControlReply> {
    try {
      return await this.route(method, path.replace(/\/+$/, ''), body);
    } catch (err) {
      return { status: 400, json: { error: errorMessage(err) } };
    }
  }

  private async route(method: string, path: string, body: string): Promise<ControlReply> {
    const input = (): Record<string, unknown> => {
      const parsed: unknown = body.trim() === '' ? {} : JSON.parse(body);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('expected a JSON object');
      return parsed as Record<string, unknown>;
    };
    const ok = (json: unknown): ControlReply => ({ status: 200, json });
    switch (`${method} ${path}`) {
      case 'GET ':
        return ok({ endpoints: CONTROL_ENDPOINTS });
      case 'GET /stats':
        return ok(this.stats());
      case 'GET /queues':
        return ok({ declarations: this.declarations(), queues: [...this.broker.queues.keys()].sort() });
      case 'POST /queues': {
        const { messageType, queueName } = input();
        if (typeof messageType !== 'string' || typeof queueName !== 'string') {
          throw new Error('messageType and queueName must be strings');
        }
        this.declareQueue(messageType, queueName);
        return ok({ declarations: this.declarations() });
      }
      case 'POST /inject':
        return ok(await this.inject(input() as InjectRequest));
      case 'GET /faults':
        return ok(this.faults());
      case 'PUT /faults':
        return ok(this.setFaults(input() as Partial<FaultSettings>));
      case 'PATCH /faults':
        return ok(this.updateFaults(input() as Partial<FaultSettings>));
      case 'GET /tokens':
        return ok({ ttlSeconds: this.broker.tokens.ttlSeconds, issued: this.broker.tokens.issuedCount });
      case 'PUT /tokens': {
        const { ttlSeconds } = input();
        this.setTokenTtl(ttlSeconds as number);
        return ok({ ttlSeconds: this.broker.tokens.ttlSeconds, issued: this.broker.tokens.issuedCount });
      }
      case 'POST /tokens/expire':
        return ok({ expired: this.expireTokens() });
      case 'GET /sts':
        return this.stsReply();
      case 'PUT /sts': {
        const { ttlSeconds } = input();
        this.setRoleSessionTtl(ttlSeconds === null ? undefined : (ttlSeconds as number));
        return this.stsReply();
      }
      case 'POST /sts/expire':
        return ok({ expired: this.expireRoleSessions() });
      case 'GET /generator':
        return ok(this.generatorSettings());
      case 'PUT /generator':
      case 'PATCH /generator':
        return ok(this.configureGenerator(input() as Partial<GeneratorSettings>));
      case 'POST /reset':
        this.reset();
        return ok({ reset: true });
      default:
        return { status: 404, json: { error: `no control endpoint ${method} /_emulator${path}` } };
    }
  }
}
