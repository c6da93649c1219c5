import type { AppConfig, ConsumerConfig } from './config/types.js';
import { accountCredentials, type AccountCredentials } from './credentials/account.js';
import { assertHandled } from './handlers/coverage.js';
import { loadHandlers } from './handlers/loader.js';
import type { HandlerRegistry } from './handlers/registry.js';
import { SwappableHandlers } from './handlers/swappable.js';
import {
  createAdminServer,
  mountAdmin,
  type AdminMountOptions,
  type AdminServer,
} from './http/admin-routes.js';
import { createHttpServer } from './http/server.js';
import { createHealthChecker, type ConsumerProbe, type HealthChecker } from './observability/health.js';
import type { Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { Pipeline } from './pipeline/pipeline.js';
import { workerShares } from './pipeline/workers.js';
import { parsedMessageFor } from './receipts/inbound.js';
import { MESSAGE_TYPES } from './receipts/types.js';
import { ErrorReporter } from './observability/error-reporter.js';
import { describeTarget } from './redis/options.js';
import { describeTopology, waitForTopology, type Topology } from './redis/topology.js';
import { createConsumerClient } from './smq/client-pool.js';
import { SmqConsumer } from './smq/consumer.js';
import type { ConsumerHealth } from './contracts/telemetry.js';
import { TokenProvider } from './smq/token-provider.js';
import { errorMessage } from './util/error-message.js';
import { abortable } from './util/async.js';

export interface DaemonOptions {
  readonly config: AppConfig;
  readonly logger: Logger;
  /** Handlers to use instead of the ones the config names (embedding and tests). */
  readonly registry?: HandlerRegistry;
  /** Defaults to a fresh registry with Node process metrics. */
  readonly metrics?: Metrics;
  /** The account credential (`start` resolves it first); defaults to one built from `config.credentials`. */
  readonly account?: AccountCredentials;
}

type HttpServer = ReturnType<typeof createHttpServer>;

export interface ReloadResult {
  /** Consumer loops started and stopped, as `endpoint|queueName|messageType`. */
  readonly started: readonly string[];
  readonly stopped: readonly string[];
  readonly handlersReloaded: boolean;
  /** Changed settings that only take effect after a restart. */
  readonly restartNeeded: readonly string[];
}

/** Identifies a consumer loop across reloads. */
export function consumerId(c: ConsumerConfig): string {
  return `${c.endpoint}|${c.queueName}|${c.messageType}`;
}

/**
 * The composition root: builds the pipeline, the handler registry, one consumer loop per configured
 * queue and the HTTP receiver from a frozen config, and takes them down in order.
 */
export class Daemon {
  private config: AppConfig;
  private readonly logger: Logger;
  /** Aborted when the drain deadline passes: running handlers see it through ctx.signal. */
  private readonly hardStop = new AbortController();
  private readonly consumers = new Map<string, SmqConsumer>();
  private readonly probes = new Map<string, ConsumerProbe & { detach: () => void }>();
  readonly metrics: Metrics;
  readonly health: HealthChecker;
  private admin?: AdminServer;
  private adminUrl?: string;
  private pipeline?: Pipeline;
  private handlers?: SwappableHandlers;
  private tokens?: TokenProvider;
  private readonly account: AccountCredentials;
  private http?: HttpServer;
  private httpUrl?: string;
  private stopping?: Promise<void>;
  private readonly injectedRegistry?: HandlerRegistry;
  private reloading?: Promise<ReloadResult>;
  /** Set once the pipeline reached Redis: only then is there work to drain at shutdown. */
  private redisReady = false;
  /** Closes of handler sets replaced by a reload, waiting for their last attempt. */
  private readonly retiring = new Set<Promise<void>>();

  constructor(options: DaemonOptions) {
    this.config = options.config;
    this.logger = options.logger;
    this.injectedRegistry = options.registry;
    this.account =
      options.account ??
      accountCredentials({ credentials: options.config.credentials, env: {}, logger: options.logger });
    this.metrics = options.metrics ?? new Metrics({ defaultLabels: { role: options.config.role } });
    this.health = createHealthChecker({
      pingRedis: async () => {
        if (!this.pipeline) throw new Error('not started');
        return this.pipeline.redis.ping();
      },
      consumers: () => [...this.probes.values()],
      tokens: () => this.tokens?.status() ?? [],
      workers: () => this.pipeline?.workers?.health() ?? [],
      workerStaleAfterMs: options.config.pipeline.workerStaleAfterMs,
      shuttingDown: () => this.stopping !== undefined,
    });
  }

  /** Where health, metrics and the dashboard are served, if anywhere. */
  get adminEndpoint(): string | undefined {
    return this.adminUrl;
  }

  get url(): string | undefined {
    return this.httpUrl;
  }

  get runsWorkers(): boolean {
    return this.config.role !== 'poller';
  }

  get runsPollers(): boolean {
    return this.config.role !== 'worker';
  }

  /**
   * Starts everything; rejects with a ConfigError or HandlerLoadError when the setup cannot work, and with
   * the signal's reason when `signal` aborts while it waits for Redis (a SIGTERM before Redis answered).
   */
  async start(signal?: AbortSignal): Promise<void> {
    const { config } = this;
    if (this.runsWorkers) {
      const registry = await this.loadRegistry(config, false);
      this.handlers = new SwappableHandlers(registry);
    }
    const pipeline = await this.waitForRedis(signal);
    this.redisReady = true;
    if (this.runsPollers) for (const consumer of config.consumers) this.startConsumer(consumer);
    await this.startHttp(pipeline);
    this.logger.info('cams-receipts started', {
      event: 'daemon_started',
      role: config.role,
      consumers: config.consumers.map(c => `${c.messageType}=${c.queueName}`),
      handlers: this.handlers?.registry.names() ?? [],
      // How the handler slots per type are spread over BullMQ workers (see pipeline.concurrency).
      ...(this.runsWorkers ? { workersPerType: workerShares(config.pipeline.concurrency) } : {}),
      http: this.httpUrl,
    });
  }

  /** Stops polling and accepting, drains in-flight receipts within drainTimeoutMs, then closes everything. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /**
   * Applies a re-read configuration: new queue pairs start, removed ones drain and stop, unchanged ones
   * keep running, and the handler list is reloaded. Rejects (leaving the running setup untouched) when the
   * new handlers cannot be loaded. Settings that need a restart (Redis, role, pipeline) are reported, not applied.
   */
  async reload(next: AppConfig): Promise<ReloadResult> {
    const previous = this.reloading ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.applyReload(next));
    this.reloading = run;
    return run;
  }

  private async applyReload(next: AppConfig): Promise<ReloadResult> {
    if (this.stopping) throw new Error('the daemon is stopping');
    const registry =
      this.runsWorkers && !this.injectedRegistry ? await this.loadRegistry(next, true) : undefined;
    const restartNeeded = restartOnlyChanges(this.config, next);
    const wanted = new Map(this.runsPollers ? next.consumers.map(c => [consumerId(c), c] as const) : []);
    const removed = [...this.consumers.keys()].filter(id => !wanted.has(id));
    const added = [...wanted.keys()].filter(id => !this.consumers.has(id));
    if (registry && this.handlers) this.retire(this.handlers.swap(registry));
    // Only what a reload can apply; the rest waits for a restart (listed in restartNeeded).
    this.config = {
      ...this.config,
      consumers: next.consumers,
      handlers: next.handlers,
      smq: next.smq,
      shutdown: next.shutdown,
    };
    for (const id of added) {
      const consumer = wanted.get(id);
      if (consumer) this.startConsumer(consumer);
    }
    await Promise.all(
      removed.map(async id => {
        const loop = this.consumers.get(id);
        this.consumers.delete(id);
        const probe = this.probes.get(id);
        this.probes.delete(id);
        await loop?.stop({ drainTimeoutMs: next.shutdown.drainTimeoutMs });
        probe?.detach();
        this.forgetToken(id, next);
      }),
    );
    const result: ReloadResult = {
      started: added,
      stopped: removed,
      handlersReloaded: registry !== undefined,
      restartNeeded,
    };
    this.logger.info('configuration reloaded', { event: 'config_reloaded', ...result });
    return result;
  }

  /** A removed queue's token is dropped unless a remaining consumer still signs with it. */
  private forgetToken(removedId: string, next: AppConfig): void {
    const [, queueName, messageType] = removedId.split('|');
    if (!queueName || !messageType) return;
    const stillUsed = next.consumers.some(c => c.queueName === queueName && c.messageType === messageType);
    if (!stillUsed) this.tokens?.forget(messageType, queueName);
  }

  consumerHealth(): { consumers: ConsumerHealth[] } {
    return { consumers: [...this.consumers.values()].map(c => c.health()) };
  }

  get inFlight(): number {
    let n = 0;
    for (const c of this.consumers.values()) n += c.inFlight;
    return n;
  }

  private createPipeline(topology: Topology): Pipeline {
    const { config } = this;
    const handlers = this.handlers;
    return new Pipeline({
      redis: config.redis,
      topology,
      config: config.pipeline,
      logger: this.logger,
      shutdown: this.hardStop.signal,
      workers: handlers
        ? {
            handlers,
            types: MESSAGE_TYPES,
            parseInbound: receipt => parsedMessageFor('ChatAppInbound', receipt),
            onHandlerFinished: e => this.metrics.handlerFinished(e),
            onJobFinished: e => this.metrics.jobFinished(e),
          }
        : undefined,
      completions: this.runsPollers,
      maxWaitMs: config.smq.maxLeaseMs,
    });
  }

  private async loadRegistry(config: AppConfig, fresh: boolean): Promise<HandlerRegistry> {
    const registry =
      this.injectedRegistry ??
      (await loadHandlers(config.handlers, config.configDir, { logger: this.logger, fresh }));
    assertHandled(config, registry);
    await registry.initAll();
    return registry;
  }

  /**
   * Finds Redis, then builds the pipeline on it. Nothing fetches before the address is known to hold the
   * configured topology: another one (a cluster node as redis.url…) rejects with a ConfigError naming the key.
   */
  private async waitForRedis(signal?: AbortSignal): Promise<Pipeline> {
    const redis = describeTarget(this.config.redis);
    const timer = setInterval(
      () => this.logger.warn('waiting for Redis', { event: 'redis_waiting', redis }),
      5000,
    );
    const errors = new ErrorReporter({ logger: this.logger });
    try {
      const topology = await waitForTopology(this.config.redis, {
        signal,
        onUnreachable: err => errors.report('redis_unreachable', err, { redis }),
      });
      this.logger.info('Redis found', { event: 'redis_topology', topology: describeTopology(topology) });
      const pipeline = this.createPipeline(topology);
      this.pipeline = pipeline;
      const ready = pipeline.waitUntilReady();
      ready.catch(() => undefined); // abandoned when the wait is aborted
      await abortable(ready, signal);
      return pipeline;
    } finally {
      clearInterval(timer);
      errors.close();
    }
  }

  private startConsumer(consumer: ConsumerConfig): void {
    const pipeline = this.pipeline;
    if (!pipeline?.completions) return;
    const { config } = this;
    if (consumer.auth === 'cams' && !this.tokens) {
      this.tokens = new TokenProvider({
        endpoint: config.smq.tokenEndpoint,
        account: this.account,
        refreshMarginMs: config.smq.tokenRefreshMarginMs,
        logger: this.logger,
      });
      this.metrics.observeTokens(this.tokens);
    }
    const loop = new SmqConsumer({
      consumer,
      smq: config.smq,
      client: createConsumerClient({
        consumer,
        smq: config.smq,
        account: this.account,
        tokens: this.tokens,
      }),
      sink: pipeline.sink,
      storeProbe: pipeline.sink,
      completions: pipeline.completions,
      deadLetters: pipeline.deadLetters,
      logger: this.logger,
    });
    const id = consumerId(consumer);
    this.consumers.set(id, loop);
    const detach = this.metrics.observeConsumer(loop, {
      queue: consumer.queueName,
      type: consumer.messageType,
    });
    this.probes.set(id, {
      waitSeconds: consumer.waitSeconds,
      maxInFlight: consumer.maxInFlight,
      startedAtMs: Date.now(),
      health: () => loop.health(),
      detach,
    });
    loop.start();
  }

  /** The push receiver (when http.port is set), with health, metrics and the dashboard on it or on admin.port. */
  private async startHttp(pipeline: Pipeline): Promise<void> {
    const { http, admin } = this.config;
    const adminOptions: AdminMountOptions = {
      health: this.health,
      registry: this.metrics.registry,
      dashboard: { ...admin.dashboard, queues: pipeline.queues.all() },
    };
    // A worker takes no pushes: its http.port, if any, serves health and metrics only.
    const adminListener =
      admin.port !== 0
        ? { host: admin.host, port: admin.port }
        : !this.runsPollers && http.port !== 0
          ? http
          : undefined;
    if (adminListener) {
      this.admin = await createAdminServer({ ...adminListener, logger: this.logger, ...adminOptions });
      this.adminUrl = (await this.admin.listen()).url;
    }
    if (http.port === 0 || !this.runsPollers) return;
    this.http = createHttpServer({
      config: http,
      sink: pipeline.sink,
      deadLetters: pipeline.deadLetters,
      logger: this.logger,
      onPush: e => this.metrics.pushRequest(e),
    });
    if (!this.admin) await mountAdmin(this.http.app, adminOptions);
    this.httpUrl = (await this.http.listen()).url;
    this.adminUrl ??= this.httpUrl;
  }

  /** Each step runs whatever became of the one before: a failing step must not leave the rest running. */
  private async shutdown(): Promise<void> {
    const { drainTimeoutMs } = this.config.shutdown;
    const deadline = setTimeout(
      () => this.hardStop.abort(new Error('drain deadline passed')),
      drainTimeoutMs,
    );
    deadline.unref();
    this.logger.info('stopping', { event: 'daemon_stopping', inFlight: this.inFlight, drainTimeoutMs });
    const started = Date.now();
    await runSteps(this.logger, [
      ['http', () => this.http?.close()],
      ['consumers', () => Promise.all([...this.consumers.values()].map(c => c.stop({ drainTimeoutMs })))],
      // Workers get what is left of the drain budget (at least a few seconds) to finish running jobs; a
      // pipeline that never reached Redis has nothing to finish.
      [
        'pipeline',
        () =>
          this.pipeline?.close(this.redisReady ? Math.max(3000, drainTimeoutMs - (Date.now() - started)) : 0),
      ],
      ['handlers', () => this.closeHandlers()],
      // Last, so /readyz reports the drain while it happens.
      ['admin', () => this.admin?.close()],
      ['metrics', () => [...this.probes.values()].forEach(p => p.detach())],
    ]);
    clearTimeout(deadline);
    this.logger.info('stopped', { event: 'daemon_stopped' });
  }

  /** The current handlers, and any replaced by a reload that are still waiting for their last attempt. */
  private async closeHandlers(): Promise<void> {
    await Promise.all([...this.retiring, this.handlers?.registry.closeAll()]);
  }

  /**
   * Closes a replaced handler set once the attempts that started on it ended. An attempt ends within
   * handlerTimeoutMs (a handler that ignores its signal loses the race), so the wait is bounded.
   */
  private retire(old: HandlerRegistry): void {
    const handlers = this.handlers;
    if (!handlers) return;
    const boundMs = this.config.pipeline.handlerTimeoutMs + 5_000;
    const closing = handlers.whenIdle(old, boundMs).then(async idle => {
      if (!idle) {
        this.logger.warn('closing replaced handlers while attempts still use them', {
          event: 'handlers_closed_busy',
          inUse: handlers.inUse(old),
        });
      }
      await old.closeAll();
    });
    this.retiring.add(closing);
    void closing.finally(() => this.retiring.delete(closing));
  }
}

/** Runs every step in order, each on its own guard, logging the ones that fail. */
async function runSteps(logger: Logger, steps: readonly [string, () => unknown][]): Promise<void> {
  for (const [step, run] of steps) {
    try {
      await run();
    } catch (err) {
      logger.error(`shutdown step "${step}" failed; continuing with the rest`, {
        event: 'shutdown_step_failed',
        step,
        error: errorMessage(err),
      });
    }
  }
}

function restartOnlyChanges(a: AppConfig, b: AppConfig): string[] {
  const keys = ['redis', 'role', 'pipeline', 'http', 'admin', 'credentials', 'log'] as const;
  return keys.filter(k => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}
