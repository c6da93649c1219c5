// The alert rules and the Grafana dashboard in config/: valid for their tools, and every series they
// query is one the daemon exports.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { Metrics } from '../../src/observability/metrics.js';

const ROOT = resolve(import.meta.dirname, '../..');
const RULES_DIR = join(ROOT, 'config/prometheus');
const DASHBOARD = join(ROOT, 'config/grafana/cams-receipts.json');
/** Series Prometheus makes itself. */
const PROMETHEUS_OWN = new Set(['up']);

/** Every series name the daemon's registry exposes (histograms as their _bucket, _sum and _count). */
async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const m of await new Metrics().registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

/** The metric names a PromQL expression reads (ours, Node's and the process's). */
function queried(expr: string): string[] {
  return [...expr.matchAll(/\b((?:cams_receipts|process|nodejs)_[a-z_]+|up)\b(?!\s*\()/g)].map(
    m => m[1] as string,
  );
}

function promtool(args: string[]) {
  const result = spawnSync('promtool', args, { cwd: RULES_DIR, encoding: 'utf8' });
  assert.ok(
    !result.error,
    'promtool is missing: run "npm run setup" (it installs Debian\'s prometheus package) and run the tests again',
  );
  return result;
}

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

describe('Prometheus alert rules', () => {
  const rules = (
    parse(readFileSync(join(RULES_DIR, 'alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }
  ).groups.flatMap(g => g.rules);

  test('promtool check rules accepts the file, and its unit tests pass', () => {
    const check = promtool(['check', 'rules', 'alerts.yml']);
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
    const unit = promtool(['test', 'rules', 'alerts.test.yml']);
    assert.equal(unit.status, 0, unit.stdout + unit.stderr);
  });

  test('every alert reads series the daemon exports, and has a severity and a summary', async () => {
    const names = await exportedNames();
    for (const rule of rules) {
      const used = queried(rule.expr);
      assert.ok(used.length > 0, `${rule.alert} reads some series`);
      for (const name of used)
        assert.ok(names.has(name) || PROMETHEUS_OWN.has(name), `${rule.alert}: ${name}`);
      assert.match(rule.labels?.['severity'] ?? '', /^(critical|warning)$/, rule.alert);
      assert.ok(rule.annotations?.['summary'], `${rule.alert} has a summary`);
    }
  });
});

interface Panel {
  readonly id: number;
  readonly title: string;
  readonly type: string;
  readonly datasource: { uid: string };
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly targets: { refId: string; expr: string }[];
}

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    title: string;
    schemaVersion: number;
    panels: Panel[];
    __inputs: { name: string; type: string }[];
    templating: { list: { name: string; query: string }[] };
  };

  test('loads as an importable dashboard: inputs, unique panel ids, a layout, a query per panel', () => {
    assert.equal(dashboard.uid, 'cams-receipts');
    assert.ok(dashboard.schemaVersion >= 36);
    assert.deepEqual(
      dashboard.__inputs.map(i => [i.name, i.type]),
      [['DS_PROMETHEUS', 'datasource']],
    );
    const ids = dashboard.panels.map(p => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const panel of dashboard.panels) {
      assert.ok(panel.title && ['timeseries', 'stat'].includes(panel.type), panel.title);
      assert.equal(panel.datasource.uid, '${DS_PROMETHEUS}', panel.title);
      assert.ok(panel.gridPos.w > 0 && panel.gridPos.h > 0 && panel.gridPos.x + panel.gridPos.w <= 24);
      assert.ok(panel.targets.length > 0, `${panel.title} has a query`);
      for (const t of panel.targets) assert.match(t.expr, /\$instance/, `${panel.title} follows $instance`);
    }
  });

  test("every panel's metric exists in the daemon's registry", async () => {
    const names = await exportedNames();
    const exprs = [
      ...dashboard.panels.flatMap(p => p.targets.map(t => [p.title, t.expr] as const)),
      ...dashboard.templating.list.map(v => [`variable ${v.name}`, v.query] as const),
    ];
    for (const [where, expr] of exprs) {
      const used = queried(expr);
      assert.ok(used.length > 0, `${where} reads some series`);
      for (const name of used) assert.ok(names.has(name), `${where}: ${name} is not exported`);
    }
    // The new gauges are on the dashboard.
    const all = exprs.map(([, e]) => e).join('\n');
    for (const name of ['cams_receipts_jobs', 'cams_receipts_smq_messages', 'cams_receipts_dead_letters'])
      assert.ok(all.includes(name), name);
  });
});
