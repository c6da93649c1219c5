import type { AppConfig, ConsumerConfig } from './config/types.js';
import { createBacklogSampler } from './daemon/backlog.js';
import { ConsumerSet } from './daemon/consumer-set.js';
import { HandlerSets } from './daemon/handler-sets.js';
import { connectPipeline } from './daemon/pipeline.js';
import { consumerId, planListeners, planReload } from './daemon/plans.js';
import { runSteps, type ShutdownStep } from './daemon/shutdown.js';
import { accountCredentials, type AccountCredentials } from './credentials/account.js';
import type { HandlerRegistry } from './handlers/registry.js';
import {
  createAdminServer,
  mountAdmin,
  type AdminMountOptions,
  type AdminServer,
} from './http/admin-routes.js';
import { createHttpServer } from './http/server.js';
import type { BacklogSampler } from './observability/backlog-sampler.js';
import { createHealthChecker, type HealthChecker } from './observability/health.js';
import type { Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import type { Pipeline } from './pipeline/pipeline.js';
import { workerShares } from './pipeline/workers.js';
import { createConsumerClient } from './smq/client-pool.js';
import { SmqConsumer } from './smq/consumer.js';
import type { ConsumerHealth } from './contracts/telemetry.js';
import { TokenProvider } from './smq/token-provider.js';

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

/**
 * The composition root: builds the pipeline, the handler registry, one consumer loop per configured
 * queue and the HTTP receiver from a frozen config, and takes them down in order.
 */
export class Daemon {
  private config: AppConfig;
  private readonly logger: Logger;
  /** Aborted when the drain deadline passes: running handlers see it through ctx.signal. */
  private readonly hardStop = new AbortController();
  private readonly consumers = new ConsumerSet();
  readonly metrics: Metrics;
  readonly health: HealthChecker;
  private admin?: AdminServer;
  private adminUrl?: string;
  private pipeline?: Pipeline;
  private sampler?: BacklogSampler;
  private readonly handlers: HandlerSets;
  private tokens?: TokenProvider;
  private readonly account: AccountCredentials;
  private http?: HttpServer;
  private httpUrl?: string;
  private stopping?: Promise<void>;
  private reloading?: Promise<ReloadResult>;
  /** Set once the pipeline reached Redis: only then is there work to drain at shutdown. */
  private redisReady = false;

  constructor(options: DaemonOptions) {
    this.config = options.config;
    this.logger = options.logger;
    this.handlers = new HandlerSets(options.logger, options.registry);
    this.account =
      options.account ??
      accountCredentials({ credentials: options.config.credentials, env: {}, logger: options.logger });
    this.metrics = options.metrics ?? new Metrics({ defaultLabels: { role: options.config.role } });
    this.health = createHealthChecker({
      pingRedis: async () => {
        if (!this.pipeline) throw new Error('not started');
        // A write, not a PING: a full Redis answers PING but refuses every receipt.
        return this.pipeline.checkWritable();
      },
      consumers: () => this.consumers.probes(),
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
    if (this.runsWorkers) await this.handlers.start(config);
    const pipeline = await connectPipeline(config, {
      logger: this.logger,
      metrics: this.metrics,
      shutdown: this.hardStop.signal,
      handlers: this.handlers.source,
      signal,
      built: built => (this.pipeline = built),
    });
    this.redisReady = true;
    if (this.runsPollers) for (const consumer of config.consumers) this.startConsumer(consumer);
    await this.startHttp(pipeline);
    this.sampler = createBacklogSampler({
      pipeline,
      config: () => this.config,
      polls: this.runsPollers,
      account: this.account,
      tokens: () => this.tokenProvider(),
      metrics: this.metrics,
      logger: this.logger,
    });
    this.sampler.start();
    this.logger.info('cams-receipts started', {
      event: 'daemon_started',
      role: config.role,
      consumers: config.consumers.map(c => `${c.messageType}=${c.queueName}`),
      handlers: this.handlers.names(),
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
    const handlersReloaded =
      this.runsWorkers && (await this.handlers.reload(next, this.config.pipeline.handlerTimeoutMs));
    const plan = planReload(this.config, next, this.consumers.ids());
    this.config = plan.config;
    for (const consumer of plan.start) this.startConsumer(consumer);
    await Promise.all(plan.stop.map(id => this.stopConsumer(id, next.shutdown.drainTimeoutMs)));
    for (const [messageType, queueName] of plan.forgetTokens) this.tokens?.forget(messageType, queueName);
    const result: ReloadResult = {
      started: plan.start.map(consumerId),
      stopped: plan.stop,
      handlersReloaded,
      restartNeeded: plan.restartNeeded,
    };
    this.logger.info('configuration reloaded', { event: 'config_reloaded', ...result });
    return result;
  }

  /** Readiness stops seeing the loop at once; its metrics go once it has drained. */
  private async stopConsumer(id: string, drainTimeoutMs: number): Promise<void> {
    const record = this.consumers.take(id);
    await record?.loop.stop({ drainTimeoutMs });
    record?.detach();
  }

  consumerHealth(): { consumers: ConsumerHealth[] } {
    return { consumers: this.consumers.health() };
  }

  get inFlight(): number {
    return this.consumers.inFlight;
  }

  private startConsumer(consumer: ConsumerConfig): void {
    const pipeline = this.pipeline;
    if (!pipeline?.completions) return;
    const { smq } = this.config;
    const tokens = consumer.auth === 'cams' ? this.tokenProvider() : this.tokens;
    const loop = new SmqConsumer({
      consumer,
      smq,
      client: createConsumerClient({ consumer, smq, account: this.account, tokens }),
      sink: pipeline.sink,
      storeProbe: pipeline.sink,
      completions: pipeline.completions,
      deadLetters: pipeline.deadLetters,
      logger: this.logger,
    });
    const detach = this.metrics.observeConsumer(loop, {
      queue: consumer.queueName,
      type: consumer.messageType,
    });
    this.consumers.add(consumer, loop, detach);
    loop.start();
  }

  /** The token provider `auth: cams` consumers share, made for the first of them. */
  private tokenProvider(): TokenProvider {
    if (this.tokens) return this.tokens;
    const { smq } = this.config;
    this.tokens = new TokenProvider({
      endpoint: smq.tokenEndpoint,
      account: this.account,
      refreshMarginMs: smq.tokenRefreshMarginMs,
      logger: this.logger,
    });
    this.metrics.observeTokens(this.tokens);
    return this.tokens;
  }

  /** The push receiver (when http.port is set), with health, metrics and the dashboard on it or on admin.port. */
  private async startHttp(pipeline: Pipeline): Promise<void> {
    const plan = planListeners(this.config);
    const adminOptions: AdminMountOptions = {
      health: this.health,
      registry: this.metrics.registry,
      dashboard: { ...this.config.admin.dashboard, queues: pipeline.queues.all() },
    };
    if (plan.admin) {
      this.admin = await createAdminServer({ ...plan.admin, logger: this.logger, ...adminOptions });
      this.adminUrl = (await this.admin.listen()).url;
    }
    if (!plan.push) return;
    this.http = createHttpServer({
      config: this.config.http,
      sink: pipeline.sink,
      deadLetters: pipeline.deadLetters,
      logger: this.logger,
      onPush: e => this.metrics.pushRequest(e),
    });
    if (!this.admin) await mountAdmin(this.http.app, adminOptions);
    this.httpUrl = (await this.http.listen()).url;
    this.adminUrl ??= this.httpUrl;
  }

  /** Stops the parts in order, each step on its own guard; the drain deadline aborts running handlers. */
  private async shutdown(): Promise<void> {
    const { drainTimeoutMs } = this.config.shutdown;
    const deadline = setTimeout(
      () => this.hardStop.abort(new Error('drain deadline passed')),
      drainTimeoutMs,
    );
    deadline.unref();
    this.logger.info('stopping', { event: 'daemon_stopping', inFlight: this.inFlight, drainTimeoutMs });
    await runSteps(this.logger, this.shutdownSteps(drainTimeoutMs, Date.now()));
    clearTimeout(deadline);
    this.logger.info('stopped', { event: 'daemon_stopped' });
  }

  private shutdownSteps(drainTimeoutMs: number, startedAtMs: number): ShutdownStep[] {
    // Workers get what is left of the drain budget (at least a few seconds) to finish running jobs; a
    // pipeline that never reached Redis has nothing to finish.
    const workersMs = () =>
      this.redisReady ? Math.max(3000, drainTimeoutMs - (Date.now() - startedAtMs)) : 0;
    return [
      ['sampler', () => this.sampler?.stop()],
      ['http', () => this.http?.close()],
      ['consumers', () => this.consumers.stopAll(drainTimeoutMs)],
      ['pipeline', () => this.pipeline?.close(workersMs())],
      ['handlers', () => this.handlers.close()],
      // Last, so /readyz reports the drain while it happens.
      ['admin', () => this.admin?.close()],
      ['metrics', () => this.consumers.detachAll()],
    ];
  }
}
