import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Option } from 'commander';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { stringify } from 'yaml';
import type { PipelineInput } from '../../aggregator/pipeline/pipeline-schema.js';
import {
  generateIndoorEvents,
  type IndoorEvent,
  type IndoorPartitionKey,
  indoorPartition,
} from '../../examples/indoor-location/indoor-generator.js';
import { createCassandraClient, createKeyspaceCql } from '../../infra/cassandra/cassandra-client.js';
import { resultTablesCql } from '../../infra/cassandra/results-schema.js';
import type { BenchDefinition } from '../../infra/cli/commands/bench-command.js';
import type { LiveAggConfig } from '../../infra/config/config-schema.js';
import { loadConfig } from '../../infra/config/load-config.js';
import {
  appliedUpdates,
  type BenchWorker,
  freePort,
  maxOverMean,
  sampleWorker,
  spawnWorker,
  stopWorker,
  type WorkerSample,
  waitBalanced,
} from './bench-worker-process.js';

const WORKERS = 2;
const AGGREGATES = [
  { field: 'rssi', kinds: ['count', 'sum', 'min', 'max', 'mean', 'quantiles'], quantiles: [0.5, 0.9] },
  { field: 'device', kinds: ['distinct'] },
] satisfies PipelineInput['aggregates'];

export interface VariantResult {
  variant: 'single-level' | 'two-level';
  description: string;
  /** Input records per wall second, commit of the input to the last record (and, two-level, the last partial) consumed, 2 workers. */
  recordsPerSec: number;
  seconds: number;
  /** How fast the bench produced the input (in one transaction, before the workers could read it). */
  producerRecordsPerSec: number;
  /** Per topic: records per partition and their max/mean (1 = even). */
  partitions: Record<string, { records: number[]; maxOverMeanLoad: number }>;
  /** Per worker: records (input + partials) consumed, aggregator busy seconds, and max/mean of records. */
  workers: { records: number[]; aggregatorBusySeconds: number[]; maxOverMeanLoad: number };
}

interface Variant {
  name: VariantResult['variant'];
  description: string;
  inputKey: IndoorPartitionKey;
  pipelines: (input: string, partials: string, level1Sink: Level1Sink) => PipelineInput[];
}

const variants: Variant[] = [
  {
    name: 'single-level',
    description: 'input keyed by site, one pipeline straight to site × (10m, 1h)',
    inputKey: 'site',
    pipelines: (input) => [
      {
        name: 'site-direct',
        source: { topics: [input] },
        keyFields: ['org', 'site'],
        eventTimeField: 'timestamp',
        windows: ['10m', '1h'],
        allowedLatenessMs: 30_000,
        aggregates: AGGREGATES,
        sink: { type: 'cassandra', table: 'indoor_results' },
      },
    ],
  },
  {
    name: 'two-level',
    description:
      'input keyed by device; level 1 zone × 1m partials to an intermediate topic keyed by site; level 2 site × (10m, 1h)',
    inputKey: 'device',
    pipelines: (input, partials, level1Sink) => [
      {
        name: 'indoor-zone-1m',
        source: { topics: [input] },
        keyFields: ['org', 'site', 'floor', 'zone'],
        eventTimeField: 'timestamp',
        windows: ['1m'],
        allowedLatenessMs: 30_000,
        aggregates: AGGREGATES,
        sink:
          level1Sink === 'cassandra'
            ? { type: 'cassandra', table: 'indoor_level1_partials' }
            : { type: 'kafka', topic: `${partials}-l1` },
        nextLevel: { topic: partials, keyFields: ['site'] },
      },
      {
        name: 'indoor-site',
        source: { topics: [partials], format: 'partial' },
        keyFields: ['org', 'site'],
        windows: ['10m', '1h'],
        allowedLatenessMs: 1_200_000,
        aggregates: AGGREGATES,
        sink: { type: 'cassandra', table: 'indoor_results' },
      },
    ],
  },
];

/** Where level 1 writes its own rows besides the partials: Cassandra (as the example) or a Kafka topic. */
export type Level1Sink = 'cassandra' | 'kafka';

export interface MultilevelBenchOptions {
  level1Sink: Level1Sink;
  records: number;
  partitions: number;
  seed: number;
  config?: string;
}

export async function runMultilevelBench(
  o: MultilevelBenchOptions,
  log: (line: string) => void,
): Promise<unknown> {
  const cfg = await loadConfig(o.config);
  const events = generateIndoorEvents({
    seed: o.seed,
    records: o.records,
    durationMs: 20 * 60_000,
    orgs: 6,
    sitesPerOrg: 4,
    floorsPerSite: 2,
    zonesPerFloor: 4,
    devices: 2000,
  });
  const results: VariantResult[] = [];
  for (const v of variants) {
    log(`multilevel: ${v.name}: ${o.records} records, ${o.partitions} partitions, ${WORKERS} workers`);
    results.push(await runVariant(cfg, v, events, o.partitions, o.level1Sink, log));
  }
  const [single, two] = results as [VariantResult, VariantResult];
  return {
    records: o.records,
    partitions: o.partitions,
    workers: WORKERS,
    seed: o.seed,
    level1Sink: o.level1Sink,
    variants: results,
    ratios: {
      /** > 1: the two-level layout is faster on this skewed input. */
      recordsPerSecTwoOverSingle: round(two.recordsPerSec / single.recordsPerSec),
      inputPartitionSpreadSingle: single.partitions['input']!.maxOverMeanLoad,
      inputPartitionSpreadTwo: two.partitions['input']!.maxOverMeanLoad,
      workerSpreadSingle: single.workers.maxOverMeanLoad,
      workerSpreadTwo: two.workers.maxOverMeanLoad,
    },
  };
}

async function runVariant(
  cfg: LiveAggConfig,
  v: Variant,
  events: IndoorEvent[],
  partitions: number,
  level1Sink: Level1Sink,
  log: (line: string) => void,
): Promise<VariantResult> {
  const id = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const input = `la-bench-ml-${v.name}-${id}`;
  const partials = `${input}-partials`;
  const dlq = `${input}-dlq`;
  const keyspace = `la_bench_ml_${id}`;
  const dir = await mkdtemp(join(tmpdir(), 'liveagg-bench-ml-'));
  const kafka = new Kafka({
    clientId: 'la-bench-ml',
    brokers: cfg.kafka.brokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const cassandra = createCassandraClient(cfg.cassandra);
  const workers: BenchWorker[] = [];
  try {
    await admin.createTopics({
      topics: [input, partials, `${partials}-l1`, dlq].map((topic) => ({
        topic,
        numPartitions: topic === dlq ? 1 : partitions,
        replicationFactor: 1,
      })),
      waitForLeaders: true,
    });
    const pipelines = v.pipelines(input, partials, level1Sink);
    await cassandra.execute(createKeyspaceCql(keyspace, cfg.cassandra.replicationFactor));
    for (const p of pipelines) {
      if (p.sink.type === 'cassandra')
        for (const cql of resultTablesCql(keyspace, p.sink.table)) await cassandra.execute(cql);
    }
    const groupId = `la-bench-ml-${id}`;
    for (let i = 0; i < WORKERS; i++) {
      const port = await freePort();
      const file = join(dir, `worker-${i}.yaml`);
      await writeFile(
        file,
        stringify({
          kafka: cfg.kafka,
          cassandra: { ...cfg.cassandra, keyspace },
          aws: cfg.aws,
          worker: {
            id: `bench-${i}`,
            groupId,
            admin: { host: '127.0.0.1', port },
            checkpoint: { store: 'local', dir: join(dir, 'checkpoints'), intervalMs: 5000 },
            deadLetterTopic: dlq,
          },
          pipelines,
        }),
      );
      workers.push(spawnWorker(file, port, join(dir, `worker-${i}.log`)));
    }
    await waitBalanced(workers, v.inputKey === 'device' ? 2 * partitions : partitions, 120_000);
    log(`multilevel: ${v.name}: ${WORKERS} workers own their partitions; producing`);
    // One transaction: the workers (read_committed) see nothing until the commit, then the
    // whole input at once, so the run measures their throughput from a backlog, not the producer's.
    const producer = kafka.producer({
      transactionalId: `la-bench-ml-${id}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 600_000,
    });
    await producer.connect();
    const produceStart = Date.now();
    const tx = await producer.transaction();
    const inputCounts = await produceAll(tx, input, events, v.inputKey, partitions);
    await tx.commit();
    const produceSeconds = (Date.now() - produceStart) / 1000;
    const committedAt = Date.now();
    await producer.disconnect();
    log(
      `multilevel: ${v.name}: produced in ${produceSeconds.toFixed(1)} s (one transaction); records per input partition ${inputCounts.join(', ')}`,
    );
    const timed = await waitConsumed(v, workers, pipelines, partials, events.length, kafka, log, committedAt);
    const inputPerPartition = Array.from({ length: partitions }, (_, p) =>
      sumOver(timed.samples, (s) => s.recordsByPartition.get(`${input}|${p}`) ?? 0),
    );
    const out: VariantResult = {
      variant: v.name,
      description: v.description,
      recordsPerSec: Math.round(events.length / timed.seconds),
      seconds: round(timed.seconds),
      producerRecordsPerSec: Math.round(events.length / produceSeconds),
      partitions: {
        input: { records: inputPerPartition, maxOverMeanLoad: round(maxOverMean(inputPerPartition)) },
      },
      workers: {
        records: timed.samples.map((s) => [...s.recordsByPartition.values()].reduce((a, b) => a + b, 0)),
        aggregatorBusySeconds: timed.samples.map((s) => round(s.aggregatorBusySeconds)),
        maxOverMeanLoad: 0,
      },
    };
    out.workers.maxOverMeanLoad = round(maxOverMean(out.workers.records));
    if (v.inputKey === 'device') {
      const perPartition = Array.from({ length: partitions }, (_, p) =>
        sumOver(timed.samples, (s) => s.recordsByPartition.get(`${partials}|${p}`) ?? 0),
      );
      out.partitions['intermediate'] = {
        records: perPartition,
        maxOverMeanLoad: round(maxOverMean(perPartition)),
      };
    }
    log(`multilevel: ${v.name}: ${out.recordsPerSec} records/s over ${out.seconds} s`);
    return out;
  } finally {
    for (const w of workers) await stopWorker(w);
    await admin.deleteTopics({ topics: [input, partials, `${partials}-l1`, dlq] }).catch(() => undefined);
    await admin.disconnect();
    await cassandra.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await cassandra.shutdown();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Polls the workers until every input record is applied by the level that reads the input and,
 * two-level, every partial on the intermediate topic (once it stops growing) by level 2. Time runs
 * from the commit of the input to the last poll at which the applied count grew. (`/status`
 * engine counters: the fetch counters run ahead of processing by a whole fetched batch.)
 */
async function waitConsumed(
  v: Variant,
  workers: BenchWorker[],
  pipelines: PipelineInput[],
  partials: string,
  records: number,
  kafka: Kafka,
  log: (line: string) => void,
  committedAt: number,
): Promise<{ seconds: number; samples: WorkerSample[] }> {
  const admin = kafka.admin();
  await admin.connect();
  const deadline = Date.now() + 15 * 60_000;
  const first = pipelines[0]!.name;
  const second = pipelines[1]?.name;
  let lastGrowth = committedAt;
  let lastTotal = 0;
  let stablePolls = 0;
  try {
    for (;;) {
      if (Date.now() > deadline) throw new Error(`multilevel bench: ${v.name} did not finish in 15 minutes`);
      for (const w of workers) {
        if (w.child.exitCode !== null) throw new Error(`multilevel bench: a worker exited; see ${w.logFile}`);
      }
      await new Promise((r) => setTimeout(r, 250));
      const applied = await Promise.all(workers.map(appliedUpdates));
      if (applied.some((a) => a === undefined)) continue;
      const now = Date.now();
      const of = (name: string) => sumOver(applied as Map<string, number>[], (a) => a.get(name) ?? 0);
      const total = of(first) + (second ? of(second) : 0);
      if (total > lastTotal) {
        lastGrowth = now;
        lastTotal = total;
        stablePolls = 0;
      } else stablePolls++;
      if (of(first) < records) continue;
      if (second) {
        const offsets = await admin.fetchTopicOffsets(partials);
        const written = offsets.reduce((n, o) => n + Number(o.high), 0);
        if ((of(second) < written && stablePolls < 40) || stablePolls < 8) continue;
        log(`multilevel: ${v.name}: ${written} partials for ${records} records`);
      }
      const samples = await Promise.all(workers.map(sampleWorker));
      if (samples.some((s) => s === undefined)) continue;
      return { seconds: (lastGrowth - committedAt) / 1000, samples: samples as WorkerSample[] };
    }
  } finally {
    await admin.disconnect();
  }
}

/** Produces the events in order, 2,000 per send, to explicit partitions (FNV-1a of the key). */
async function produceAll(
  tx: Pick<Producer, 'send'>,
  topic: string,
  events: IndoorEvent[],
  by: IndoorPartitionKey,
  partitions: number,
): Promise<number[]> {
  const counts = new Array<number>(partitions).fill(0);
  for (let i = 0; i < events.length; i += 2000) {
    const messages = events.slice(i, i + 2000).map((e) => {
      const partition = indoorPartition(e, by, partitions);
      counts[partition]! += 1;
      return { key: by === 'device' ? e.device : e.site, partition, value: JSON.stringify(e) };
    });
    await tx.send({ topic, acks: -1, messages });
  }
  return counts;
}

function sumOver<T>(xs: readonly T[], f: (x: T) => number): number {
  return xs.reduce((n, x) => n + f(x), 0);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export const multilevelBench: BenchDefinition = {
  name: 'multilevel',
  description:
    'skewed indoor-location input through one level straight to site vs two levels (partials keyed by site), 2 real workers on the local stack',
  options: (cmd) =>
    cmd
      .option('--records <n>', 'input records', '200000')
      .option('--partitions <n>', 'partitions of the input (and intermediate) topic', '4')
      .option('--seed <n>', 'generator seed', '1')
      .addOption(
        new Option('--level1-sink <sink>', "level 1's own rows (besides the partials): cassandra or kafka")
          .choices(['cassandra', 'kafka'])
          .default('cassandra'),
      )
      .option('-c, --config <file>', 'connections (kafka, cassandra, aws); default: the local stack'),
  run: (opts, log) =>
    runMultilevelBench(
      {
        records: Number(opts['records']),
        partitions: Number(opts['partitions']),
        seed: Number(opts['seed']),
        level1Sink: opts['level1Sink'] === 'kafka' ? 'kafka' : 'cassandra',
        ...(typeof opts['config'] === 'string' ? { config: opts['config'] } : {}),
      },
      log,
    ),
};
