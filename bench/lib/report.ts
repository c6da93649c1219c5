// Scenario results, and the JSON and Markdown the suite writes from them.
import { cpus, loadavg, totalmem } from 'node:os';

export interface Figure {
  readonly metric: string;
  readonly value: number | string;
  readonly unit?: string;
  /** e.g. "≥ 5,000"; absent when the figure is informative only. */
  readonly target?: string;
  readonly met?: boolean;
}

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  /** What was run, stated in the output as the issue asks. */
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
  readonly figures: readonly Figure[];
  /** Everything measured, for the JSON. */
  readonly details: unknown;
  readonly notes?: readonly string[];
}

export function machine(): Record<string, unknown> {
  return {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadAverage: loadavg().map(n => Math.round(n * 100) / 100),
  };
}

export function fmt(value: number | string): string {
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return '—';
  return Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US') : String(value);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** One table of every figure, then each scenario's parameters and notes. */
export function markdown(
  results: readonly ScenarioResult[],
  meta: {
    command: string;
    date: string;
    machine: string;
    seconds: number;
    daemonNodeArgs: readonly string[];
  },
): string {
  const lines = [
    '# Benchmark results',
    '',
    `Command: \`${meta.command}\` · ${meta.date} · ${meta.machine} · suite took ${Math.round(meta.seconds)} s.`,
    'Redis, the SMQ emulator and the daemon run as separate processes and share the machine’s cores.',
    `The daemon runs with the node flags production uses (ecosystem.config.js): \`${meta.daemonNodeArgs.join(' ')}\`.`,
    '',
    '| Scenario | Figure | Value | Target | Met |',
    '|---|---|---:|---|:---:|',
  ];
  for (const r of results) {
    for (const f of r.figures) {
      const value = `${fmt(f.value)}${f.unit ? ` ${f.unit}` : ''}`;
      const met = f.met === undefined ? '' : f.met ? 'yes' : '**no**';
      lines.push(
        `| ${cell(r.title)} | ${cell(f.metric)} | ${cell(value)} | ${cell(f.target ?? '')} | ${met} |`,
      );
    }
  }
  lines.push('', '## Parameters', '');
  for (const r of results) {
    const params = Object.entries(r.parameters)
      .map(([k, v]) => `${k}: ${typeof v === 'number' ? fmt(v) : String(v)}`)
      .join('; ');
    lines.push(`- **${r.title}**: ${params}.`);
    for (const note of r.notes ?? []) lines.push(`  - ${note}`);
  }
  return lines.join('\n') + '\n';
}

export function printScenario(r: ScenarioResult): void {
  console.log(`\n== ${r.title}`);
  console.log(
    `   ${Object.entries(r.parameters)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : String(v)}`)
      .join(' ')}`,
  );
  for (const f of r.figures) {
    const mark = f.met === undefined ? '' : f.met ? '  [met]' : '  [NOT met]';
    console.log(
      `   ${f.metric}: ${fmt(f.value)}${f.unit ? ` ${f.unit}` : ''}${f.target ? ` (target ${f.target})` : ''}${mark}`,
    );
  }
  for (const note of r.notes ?? []) console.log(`   note: ${note}`);
}
