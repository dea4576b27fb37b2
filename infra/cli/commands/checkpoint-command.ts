import type { Command } from 'commander';
import type { CheckpointManifest } from '../../../aggregator/checkpoint/checkpoint-types.js';
import { createCheckpointStore } from '../../checkpoint/create-checkpoint-store.js';
import { loadConfig } from '../../config/load-config.js';
import { createLogger } from '../../log/logger.js';
import { formatTable, printJson, printLine } from '../output.js';

interface LsOptions {
  config?: string;
  pipeline?: string;
  topic?: string;
  partition?: string;
  json?: boolean;
}

export function registerCheckpointCommand(program: Command): void {
  const cmd = program.command('checkpoint').description("List and inspect the workers' checkpoints.");
  cmd
    .command('ls')
    .description('list checkpoints per partition with age, size and offsets')
    .option('-c, --config <file>', 'config file (worker.checkpoint says where checkpoints live)')
    .option('--pipeline <name>', 'only this pipeline')
    .option('--topic <name>', 'only this topic')
    .option('--partition <n>', 'only this partition')
    .option('--json', 'print only the JSON document on stdout')
    .action(async (opts: LsOptions) => {
      const store = await openStore(opts.config);
      const filter = {
        ...(opts.pipeline ? { pipeline: opts.pipeline } : {}),
        ...(opts.topic ? { topic: opts.topic } : {}),
        ...(opts.partition !== undefined ? { partition: parsePartition(opts.partition) } : {}),
      };
      const manifests = await store.list(filter);
      const now = Date.now();
      const rows = manifests.map((m) => describe(m, now));
      if (opts.json) return printJson({ location: store.location, checkpoints: rows });
      printLine(`checkpoints in ${store.location}`);
      printLine(
        formatTable(
          ['pipeline', 'topic', 'part', 'id', 'age', 'next offset', 'stored', 'state', 'series'],
          rows.map((r) => [
            r.pipeline,
            r.topic,
            r.partition,
            r.id,
            `${r.ageSeconds.toFixed(0)}s`,
            r.nextOffset,
            bytes(r.storedBytes),
            bytes(r.stateBytes),
            r.liveSeries ?? '-',
          ]),
        ),
      );
    });
  cmd
    .command('inspect')
    .description('verify one checkpoint (the newest valid one unless --id) and show what it holds')
    .requiredOption('--pipeline <name>', 'pipeline')
    .requiredOption('--topic <name>', 'topic')
    .requiredOption('--partition <n>', 'partition')
    .option('--id <id>', 'a specific checkpoint id')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print only the JSON document on stdout')
    .action(async (opts: LsOptions & { pipeline: string; topic: string; partition: string; id?: string }) => {
      const store = await openStore(opts.config);
      const ref = { pipeline: opts.pipeline, topic: opts.topic, partition: parsePartition(opts.partition) };
      const loaded = opts.id ? await store.load(ref, opts.id) : (await store.latestValid(ref)).checkpoint;
      if (!loaded)
        throw new Error(
          `no valid checkpoint for ${ref.pipeline} ${ref.topic}[${ref.partition}] in ${store.location}`,
        );
      const doc =
        'manifest' in loaded
          ? {
              valid: true,
              ...describe(loaded.manifest, Date.now()),
              stats: loaded.manifest.stats,
              writer: loaded.manifest.writer,
              sha256: loaded.manifest.sha256,
            }
          : { valid: false, id: loaded.id, reason: loaded.reason, detail: loaded.detail };
      // An invalid checkpoint fails the command with or without --json (scripts test the code).
      if (!doc.valid) process.exitCode = 1;
      if (opts.json) return printJson(doc);
      for (const [k, v] of Object.entries(doc))
        printLine(`${k.padEnd(14)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    });
}

async function openStore(configFile: string | undefined) {
  const cfg = await loadConfig(configFile);
  if (!cfg.worker)
    throw new Error(
      'worker.checkpoint: not configured — add a worker section to the config file (see README)',
    );
  return createCheckpointStore(cfg.worker.checkpoint, cfg.aws, createLogger('checkpoint', 'warn'));
}

function parsePartition(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--partition: ${JSON.stringify(s)} is not a partition number`);
  return n;
}

function describe(m: CheckpointManifest, now: number) {
  return {
    pipeline: m.pipeline,
    topic: m.topic,
    partition: m.partition,
    id: m.id,
    createdAt: new Date(m.createdAtMs).toISOString(),
    ageSeconds: (now - m.createdAtMs) / 1000,
    nextOffset: m.nextOffset,
    storedBytes: m.storedBytes,
    stateBytes: m.stateBytes,
    liveSeries: m.stats['liveSeries'],
    openWindows: m.stats['openWindows'],
    /** An idle partition's watermark advance, applied on restore (see the pipeline's idleAfterMs). */
    advanceWatermarkTo:
      m.advanceWatermarkToMs === undefined ? null : new Date(m.advanceWatermarkToMs).toISOString(),
    dataKey: m.dataKey,
  };
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}
