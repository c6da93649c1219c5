import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../contracts/logger.js';
import type { HealthChecker } from '../observability/health.js';
import { registerDashboard, type DashboardOptions } from './dashboard.js';

export interface AdminRoutesOptions {
  readonly health: HealthChecker;
  readonly registry: Registry;
}

/**
 * `GET /healthz` (the process is up), `GET /readyz` (200, or 503 with a reason per failing part) and
 * `GET /metrics` (Prometheus text). Mount it on the push server or on the admin server.
 */
export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, opts) => {
  app.get('/healthz', async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });

  app.get('/readyz', async (_request, reply) => {
    const readiness = await opts.health.check();
    void reply.header('cache-control', 'no-store').code(readiness.ok ? 200 : 503);
    return { status: readiness.ok ? 'ready' : 'not_ready', parts: readiness.parts };
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await opts.registry.metrics();
    void reply.header('content-type', opts.registry.contentType).header('cache-control', 'no-store');
    return text;
  });
};

export interface AdminMountOptions extends AdminRoutesOptions {
  /** The bull-board dashboard at `/admin`; omitted or `enabled: false` serves none. */
  readonly dashboard?: DashboardOptions & { readonly enabled: boolean };
}

/** Health, metrics and (when enabled) the dashboard, on any Fastify instance, before it listens. */
export async function mountAdmin(app: FastifyInstance, opts: AdminMountOptions): Promise<void> {
  await app.register(adminRoutes, { health: opts.health, registry: opts.registry });
  if (opts.dashboard?.enabled) await registerDashboard(app, opts.dashboard);
}

export interface AdminServerOptions extends AdminMountOptions {
  readonly host: string;
  /** 0 picks a free port (tests); the daemon passes `admin.port`. */
  readonly port: number;
  readonly logger: Logger;
}

export interface AdminServer {
  readonly app: FastifyInstance;
  listen(): Promise<{ url: string }>;
  close(): Promise<void>;
}

/** The admin listener, for `admin.port` ≠ 0: health, metrics and the dashboard away from the push port. */
export async function createAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true },
  });
  await mountAdmin(app, opts);
  let closing: Promise<void> | undefined;
  return {
    app,
    async listen() {
      const url = await app.listen({ host: opts.host, port: opts.port });
      opts.logger.info('admin server listening', {
        event: 'admin_listening',
        url,
        dashboard: opts.dashboard?.enabled ? `${url}${opts.dashboard.basePath ?? '/admin'}` : 'off',
      });
      return { url };
    },
    close() {
      closing ??= app.close();
      return closing;
    },
  };
}
