import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { Client } from 'cassandra-driver';
import type { Kafka } from 'kafkajs';
import { parse, stringify } from 'yaml';
import {
  compileLayout,
  emptyFieldState,
  type FieldState,
} from '../../../aggregator/aggregates/aggregate-layout.js';
import { DDSketch } from '../../../aggregator/aggregates/dd-sketch.js';
import { HyperLogLog } from '../../../aggregator/aggregates/hyper-log-log.js';
import { seriesKeyOf } from '../../../aggregator/decode/series-key.js';
import type { PipelineInput } from '../../../aggregator/pipeline/pipeline-schema.js';
import { pipelineSchema } from '../../../aggregator/pipeline/pipeline-schema.js';
import type { IndoorEvent } from '../../../examples/indoor-location/indoor-generator.js';
import { createS3Client } from '../../../infra/aws/aws-clients.js';
import { repoRoot } from '../helpers/cli-process.js';
import {
  awsConnection,
  cassandraContactPoint,
  kafkaBrokers,
  scenarioPort,
  uniqueName,
} from '../helpers/stack-endpoints.js';

export const LEVEL1 = ['indoor-device-1m', 'indoor-zone-1m'];
export const LEVEL2 = ['indoor-floor', 'indoor-site'];
/**
 * Level-2 lateness in these tests: longer than the whole input's event-time span, so the order in
 * which level-1 partitions deliver their partials never matters; windows close only at the end
 * partials. (What lateness production needs is a separate question: see the example's README.)
 */
const TEST_L2_LATENESS_MS = 3 * 3_600_000;

export interface IndoorScenario {
  input: string;
  partials: string;
  dlq: string;
  keyspace: string;
  bucket: string;
  groups: { 1: string; 2: string };
  inputPartitions: number;
  partialPartitions: number;
}

/** Fresh topics, keyspace, bucket and consumer groups (one per level) for one test. */
export async function newIndoorScenario(
  kafka: Kafka,
  inputPartitions: number,
  partialPartitions: number,
): Promise<IndoorScenario> {
  const input = uniqueName('la-indoor');
  const s: IndoorScenario = {
    input,
    partials: `${input}-partials`,
    dlq: `${input}-dlq`,
    keyspace: uniqueName('la_indoor').replaceAll('-', '_'),
    bucket: uniqueName('la-ckpt'),
    groups: { 1: uniqueName('la-l1'), 2: uniqueName('la-l2') },
    inputPartitions,
    partialPartitions,
  };
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: s.input, numPartitions: inputPartitions, replicationFactor: 1 },
      { topic: s.partials, numPartitions: partialPartitions, replicationFactor: 1 },
      { topic: s.dlq, numPartitions: 1, replicationFactor: 1 },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();
  await createS3Client(awsConnection).send(new CreateBucketCommand({ Bucket: s.bucket }));
  return s;
}

/** The example's pipelines (examples/indoor-location/config.yaml), as written there. */
export async function examplePipelines(): Promise<PipelineInput[]> {
  const text = await readFile(join(repoRoot, 'examples/indoor-location/config.yaml'), 'utf8');
  return (parse(text) as { pipelines: PipelineInput[] }).pipelines;
}

/** The example's pipelines of one level, re-pointed at the scenario's topics. */
export async function levelPipelines(s: IndoorScenario, level: 1 | 2): Promise<PipelineInput[]> {
  const names = level === 1 ? LEVEL1 : LEVEL2;
  return (await examplePipelines())
    .filter((p) => names.includes(p.name))
    .map((p) =>
      level === 1
        ? {
            ...p,
            source: { ...p.source, topics: [s.input] },
            ...(p.nextLevel ? { nextLevel: { ...p.nextLevel, topic: s.partials } } : {}),
          }
        : { ...p, source: { ...p.source, topics: [s.partials] }, allowedLatenessMs: TEST_L2_LATENESS_MS },
    );
}

/** A worker config running one level of the example (its own consumer group). */
export async function writeLevelConfig(
  s: IndoorScenario,
  level: 1 | 2,
  adminPort = scenarioPort(level),
  checkpointIntervalMs = 1000,
): Promise<{ file: string; adminPort: number }> {
  const doc = {
    kafka: { brokers: kafkaBrokers, clientId: `la-indoor-l${level}` },
    cassandra: { contactPoints: [cassandraContactPoint], keyspace: s.keyspace },
    aws: {
      region: awsConnection.region,
      endpoint: awsConnection.endpoint,
      accessKeyId: 'testing',
      secretAccessKey: 'testing',
    },
    worker: {
      groupId: s.groups[level],
      sessionTimeoutMs: 10_000,
      admin: { host: '127.0.0.1', port: adminPort },
      checkpoint: {
        store: 's3',
        bucket: s.bucket,
        prefix: `level-${level}`,
        intervalMs: checkpointIntervalMs,
      },
      deadLetterTopic: s.dlq,
    },
    pipelines: await levelPipelines(s, level),
  };
  const file = join(tmpdir(), `${uniqueName(`liveagg-indoor-l${level}`)}.yaml`);
  await writeFile(file, stringify(doc));
  return { file, adminPort };
}

/** Empty (count 0) states of a level-2 pipeline's fields, for end-marker partials. */
export async function emptyLevel2Fields(s: IndoorScenario): Promise<Record<string, FieldState>> {
  const site = pipelineSchema.parse((await levelPipelines(s, 2))[0]);
  const out: Record<string, FieldState> = {};
  for (const l of compileLayout(site.aggregates)) {
    out[l.name] = emptyFieldState({ ...l, quantiles: null, distinct: null });
  }
  return out;
}

/** One level-2 row: the metrics the example declares. */
export interface RollupRow {
  count: number;
  sum: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  distinct: number;
}

const LEVEL2_KEYS: Record<string, readonly (keyof IndoorEvent)[]> = {
  'indoor-floor': ['org', 'site', 'floor'],
  'indoor-site': ['org', 'site'],
};
const LEVEL2_WINDOWS = [600_000, 3_600_000];

/**
 * The reference: the level-2 rollups computed straight from the raw events (no level 1, no
 * partials): count/sum/min/max by arithmetic, quantiles from one DDSketch fed every value, the
 * distinct device count from one HyperLogLog fed every device (both merge exactly, so the
 * two-level result must equal them), keyed `pipeline|series|windowSize|windowStart`.
 */
export function referenceLevel2(events: readonly IndoorEvent[]): Map<string, RollupRow> {
  const acc = new Map<
    string,
    { n: number; sum: number; min: number; max: number; sk: DDSketch; hll: HyperLogLog }
  >();
  for (const e of events) {
    for (const [pipeline, keys] of Object.entries(LEVEL2_KEYS)) {
      const series = seriesKeyOf(keys.map((k) => String(e[k])));
      for (const size of LEVEL2_WINDOWS) {
        const key = `${pipeline}|${series}|${size}|${e.timestamp - (e.timestamp % size)}`;
        let a = acc.get(key);
        if (!a) {
          a = {
            n: 0,
            sum: 0,
            min: Infinity,
            max: -Infinity,
            sk: new DDSketch(0.01),
            hll: new HyperLogLog(12),
          };
          acc.set(key, a);
        }
        a.n += 1;
        a.sum += e.rssi;
        a.min = Math.min(a.min, e.rssi);
        a.max = Math.max(a.max, e.rssi);
        a.sk.add(e.rssi);
        a.hll.add(e.device);
      }
    }
  }
  const out = new Map<string, RollupRow>();
  for (const [key, a] of acc) {
    out.set(key, {
      count: a.n,
      sum: a.sum,
      min: a.min,
      max: a.max,
      mean: a.sum / a.n,
      p50: a.sk.quantile(0.5),
      p90: a.sk.quantile(0.9),
      distinct: Math.round(a.hll.estimate()),
    });
  }
  return out;
}

/** Distinct (input partition, zone, minute) partials level 1 must send: level 1 is done when the topic holds them all. */
export function expectedPartials(
  events: readonly IndoorEvent[],
  partitionOf: (e: IndoorEvent) => number,
): number {
  const ids = new Set<string>();
  for (const e of events) ids.add(`${partitionOf(e)}|${e.zone}|${e.timestamp - (e.timestamp % 60_000)}`);
  return ids.size;
}

/** Rows of the given pipelines in the scenario's results table, end markers excluded. */
export async function readRollups(s: IndoorScenario, pipelines = LEVEL2): Promise<Map<string, RollupRow>> {
  const client = new Client({ contactPoints: [cassandraContactPoint], localDataCenter: 'datacenter1' });
  try {
    const rs = await client.execute(
      `SELECT pipeline, series_key, window_size_ms, window_start, metrics FROM ${s.keyspace}.indoor_results`,
      [],
      { fetchSize: 100_000 },
    );
    const out = new Map<string, RollupRow>();
    for (const row of rs.rows) {
      const pipeline = row['pipeline'] as string;
      const series = row['series_key'] as string;
      if (!pipelines.includes(pipeline) || series.startsWith('__end')) continue;
      const m = row['metrics'] as Record<string, number>;
      const size = Number(row['window_size_ms']);
      out.set(`${pipeline}|${series}|${size}|${(row['window_start'] as Date).getTime()}`, {
        count: m['rssi.count']!,
        sum: m['rssi.sum']!,
        min: m['rssi.min']!,
        max: m['rssi.max']!,
        mean: m['rssi.mean']!,
        p50: m['rssi.p50']!,
        p90: m['rssi.p90']!,
        distinct: m['device.distinct']!,
      });
    }
    return out;
  } catch (err) {
    const msg = (err as Error).message;
    if (msg.includes('unconfigured table') || msg.includes('does not exist')) return new Map();
    throw err;
  } finally {
    await client.shutdown();
  }
}

/** Every difference between the rows and the reference (rssi values are integers: sums are exact). */
export function diffRollups(actual: Map<string, RollupRow>, expected: Map<string, RollupRow>): string[] {
  const problems: string[] = [];
  for (const [key, e] of expected) {
    const a = actual.get(key);
    if (!a) {
      problems.push(`missing ${key}`);
      continue;
    }
    for (const k of Object.keys(e) as (keyof RollupRow)[]) {
      const exact = k !== 'mean';
      if (exact ? a[k] !== e[k] : Math.abs(a[k] - e[k]) > 1e-9)
        problems.push(`${key}: ${k} ${a[k]} != ${e[k]}`);
    }
  }
  for (const key of actual.keys()) if (!expected.has(key)) problems.push(`extra ${key}`);
  return problems;
}
