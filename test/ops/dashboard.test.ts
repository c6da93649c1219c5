import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { createAdminServer, type AdminServer } from '../../src/http/admin-routes.js';
import { createHealthChecker } from '../../src/observability/health.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { waitReady } from '../../src/redis/connection.js';
import { MESSAGE_TYPES } from '../../src/receipts/types.js';
import { createPipeline, statusEnvelope } from '../pipeline/harness.js';
import { standaloneRedis } from '../../src/redis/options.js';
import { redisUrl, uniquePrefix } from '../helpers/redis.js';
import { tempDir } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const USER = 'ops';
const PASSWORD = 'dashboard-pw-0123';

function basic(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

async function startDashboard(
  pipeline: Pipeline,
  readOnly: boolean,
): Promise<{ server: AdminServer; url: string }> {
  const server = await createAdminServer({
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger(),
    registry: new Metrics({ defaultMetrics: false }).registry,
    health: createHealthChecker({ pingRedis: () => pipeline.redis.ping() }),
    dashboard: { enabled: true, queues: pipeline.queues.all(), username: USER, password: PASSWORD, readOnly },
  });
  const { url } = await server.listen();
  return { server, url };
}

describe('bull-board dashboard at /admin', () => {
  let pipeline: Pipeline;
  let url: string;
  const closers: (() => Promise<void>)[] = [];

  before(async () => {
    ({ pipeline } = createPipeline([], { workers: false }));
    closers.push(() => pipeline.close());
    await waitReady(pipeline.redis, 5000);
    await pipeline.sink.submit([statusEnvelope('dash-1'), statusEnvelope('dash-2')]);
    const started = await startDashboard(pipeline, true);
    closers.push(() => started.server.close());
    url = started.url;
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  test('basic auth: no or wrong credentials get 401 with a challenge; the right ones get the page', async () => {
    const none = await fetch(`${url}/admin`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm="cams-receipts"/);
    for (const auth of [
      basic(USER, 'wrong'),
      basic('someone', PASSWORD),
      basic(USER, PASSWORD + 'x'),
      'Bearer abc',
      'Basic !!!',
    ]) {
      const res = await fetch(`${url}/admin`, { headers: { authorization: auth } });
      assert.equal(res.status, 401, `rejected: ${auth}`);
    }
    // The API behind the page is guarded too.
    assert.equal((await fetch(`${url}/admin/api/queues`)).status, 401);
    const page = await fetch(`${url}/admin`, { headers: { authorization: basic(USER, PASSWORD) } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    // Health and metrics are not behind the dashboard's auth.
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
  });

  test('read-only by default: the API reports readOnlyMode and refuses a write', async () => {
    const auth = { authorization: basic(USER, PASSWORD) };
    const res = await fetch(`${url}/admin/api/queues`, { headers: auth });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    assert.deepEqual(body.queues.map(q => q.name).sort(), [...MESSAGE_TYPES].sort());
    assert.ok(
      body.queues.every(q => q.readOnlyMode),
      'every queue is read-only',
    );
    const pause = await fetch(`${url}/admin/api/queues/ChatAppStatus/pause`, {
      method: 'PUT',
      headers: auth,
    });
    assert.ok(pause.status >= 400, `pause refused (${pause.status})`);
    assert.equal(await pipeline.queues.get('ChatAppStatus').isPaused(), false);
  });

  test('readOnly: false turns the actions on', async () => {
    const writable = await startDashboard(pipeline, false);
    closers.push(() => writable.server.close());
    const res = await fetch(`${writable.url}/admin/api/queues`, {
      headers: { authorization: basic(USER, PASSWORD) },
    });
    const body = (await res.json()) as { queues: { readOnlyMode: boolean; allowRetries: boolean }[] };
    assert.equal(body.queues.length, MESSAGE_TYPES.length);
    assert.ok(body.queues.every(q => !q.readOnlyMode && q.allowRetries));
  });

  test('with 2 partitions every partition queue is listed, each under its own name', async () => {
    const { pipeline: parted } = createPipeline([], {
      workers: false,
      redis: standaloneRedis(redisUrl(), uniquePrefix('dash'), 2),
    });
    closers.push(() => parted.close());
    await waitReady(parted.redis, 5000);
    const started = await startDashboard(parted, true);
    closers.push(() => started.server.close());
    const res = await fetch(`${started.url}/admin/api/queues`, {
      headers: { authorization: basic(USER, PASSWORD) },
    });
    const names = ((await res.json()) as { queues: { name: string }[] }).queues.map(q => q.name);
    assert.equal(names.length, 2 * MESSAGE_TYPES.length, names.join());
    assert.equal(new Set(names).size, names.length, 'no two queues share a name');
    assert.ok(
      names.every(n => /^\{dash-[^}]+-p[01](-\d+)?\}:/.test(n)),
      names.join(),
    );
  });

  test('headless Chromium loads the page and lists the three queues', async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: run "npm run setup" (it installs Debian's chromium package) and run the tests again`,
    );
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(tempDir({}, 'cams-chromium-'), {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        httpCredentials: { username: USER, password: PASSWORD },
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const response = await page.goto(`${url}/admin`, { waitUntil: 'domcontentloaded', timeout: 30_000 });
      assert.equal(response?.status(), 200);
      for (const type of MESSAGE_TYPES) {
        await page.getByText(type, { exact: true }).first().waitFor({ state: 'visible', timeout: 30_000 });
      }
      const title = await page.title();
      assert.match(title, /cams-receipts/);
    } finally {
      await context?.close();
    }
  });
});
