import { MESSAGE_TYPES } from '../receipts/types.js';
import { pipelineStats, type PipelineStats } from '../pipeline/stats.js';
import { queueStats, type SmqQueueStats } from '../smq/queue-stats.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, flag, parseCommandArgs, stringOption } from './args.js';
import { loadCommandConfig } from './config.js';
import { writeLine, type Command } from './io.js';
import { table } from './table.js';

const USAGE = `Usage: cams-receipts stats [--config <dir>] [--json]

Shows, per message type, the BullMQ job counts (waiting, active, delayed, completed, failed), the
number of dead-letter entries, and for each configured SMQ queue its attributes (active, inactive and
delayed messages) when SMQ is reachable.

Options:
  --config <dir>  configuration directory (default: $CAMS_CONFIG_DIR, else ./config)
  --json          print one JSON object
  -h, --help      show this help

Exit codes: 0 ok (an unreachable SMQ queue is reported, not a failure), 1 Redis unreachable or an
invalid configuration, 2 usage error.`;

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface Stats extends PipelineStats {
  readonly smq: readonly SmqQueueStats[];
}

/** `cams-receipts stats`: BullMQ counts per type, dead letters, and SMQ queue attributes. */
export const statsCommand: Command = async (args, io) => {
  const parsed = parseCommandArgs(args, OPTIONS, io, 'stats', USAGE);
  if (typeof parsed === 'number') return parsed;
  if (flag(parsed, 'help')) {
    writeLine(io.stdout, USAGE);
    return EXIT_OK;
  }
  if (parsed.positionals.length > 0) {
    writeLine(io.stderr, `stats: unexpected argument "${parsed.positionals[0]}"\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const config = loadCommandConfig(io, stringOption(parsed, 'config'));
  if (!config) return EXIT_FAILURE;
  const [bull, smq] = await Promise.all([pipelineStats(config), queueStats(config, io.env)]);
  const stats: Stats = { ...bull, smq };
  if (flag(parsed, 'json')) writeLine(io.stdout, JSON.stringify(stats));
  else writeLine(io.stdout, render(stats));
  return stats.redis.available ? EXIT_OK : EXIT_FAILURE;
};

export function render(stats: Stats): string {
  const lines: string[] = [`BullMQ (${stats.redis.target}, prefix ${stats.redis.prefix})`];
  if (stats.redis.topology) lines.push(`Redis: ${stats.redis.topology}`);
  if (!stats.redis.available) {
    lines.push(`  unavailable: ${stats.redis.reason ?? 'unknown'}`);
  } else {
    const rows = MESSAGE_TYPES.map(type => {
      const c = stats.bullmq[type];
      return [type, ...(c ? [c.waiting, c.active, c.delayed, c.completed, c.failed].map(String) : [])];
    });
    lines.push(table(['TYPE', 'WAITING', 'ACTIVE', 'DELAYED', 'COMPLETED', 'FAILED'], rows));
    lines.push(
      '',
      `Dead-letter store: ${stats.deadLetters ?? 0} entr${stats.deadLetters === 1 ? 'y' : 'ies'}`,
    );
  }
  lines.push('', 'SMQ queues');
  if (stats.smq.length === 0) {
    lines.push('  none configured (no queue files in <config>/queues/)');
  } else {
    const rows = stats.smq.map(q =>
      q.available
        ? [
            q.queueName,
            q.messageType,
            String(q.activeMessages),
            String(q.inactiveMessages),
            String(q.delayMessages),
          ]
        : [q.queueName, q.messageType, `unavailable: ${q.reason}`],
    );
    lines.push(table(['QUEUE', 'TYPE', 'ACTIVE', 'INACTIVE', 'DELAYED'], rows));
  }
  return lines.join('\n');
}
