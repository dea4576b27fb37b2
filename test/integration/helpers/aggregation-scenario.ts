import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { Client } from 'cassandra-driver';
import type { Kafka } from 'kafkajs';
import { stringify } from 'yaml';
import { createS3Client } from '../../../infra/aws/aws-clients.js';
import {
  awsConnection,
  cassandraContactPoint,
  kafkaBrokers,
  scenarioPort,
  uniqueName,
} from './stack-endpoints.js';

export interface TempEvent {
  device: string;
  ts: number;
  temp: number;
  partition: number;
}

export interface Scenario {
  topic: string;
  dlqTopic: string;
  keyspace: string;
  bucket: string;
  groupId: string;
  partitions: number;
  windowMs: number;
  latenessMs: number;
}

/** A fresh topic, dead-letter topic, keyspace, bucket and group for one test. */
export async function newScenario(kafka: Kafka, partitions: number): Promise<Scenario> {
  const topic = uniqueName('la-agg');
  const dlqTopic = `${topic}-dlq`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic, numPartitions: partitions, replicationFactor: 1 },
      { topic: dlqTopic, numPartitions: 1, replicationFactor: 1 },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();
  const bucket = uniqueName('la-ckpt');
  await createS3Client(awsConnection).send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    topic,
    dlqTopic,
    keyspace: uniqueName('la_t').replaceAll('-', '_'),
    bucket,
    groupId: uniqueName('la-group'),
    partitions,
    windowMs: 60_000,
    latenessMs: 30_000,
  };
}

/** Writes a worker config for the scenario; `adminPort` distinguishes workers of one test. */
export async function writeWorkerConfig(
  s: Scenario,
  adminPort = scenarioPort(),
  extra: Record<string, unknown> = {},
  awsExtra: Record<string, unknown> = {},
  pipelineExtra: Record<string, unknown> = {},
): Promise<{ file: string; adminPort: number }> {
  const doc = {
    kafka: { brokers: kafkaBrokers, clientId: 'la-test' },
    cassandra: { contactPoints: [cassandraContactPoint], keyspace: s.keyspace },
    aws: {
      region: awsConnection.region,
      endpoint: awsConnection.endpoint,
      accessKeyId: 'testing',
      secretAccessKey: 'testing',
      ...awsExtra,
    },
    worker: {
      groupId: s.groupId,
      sessionTimeoutMs: 10_000,
      admin: { host: '127.0.0.1', port: adminPort },
      checkpoint: { store: 's3', bucket: s.bucket, intervalMs: 1000 },
      deadLetterTopic: s.dlqTopic,
      ...extra,
    },
    pipelines: [
      {
        name: 'temps',
        source: { topics: [s.topic] },
        keyFields: ['device'],
        eventTimeField: 'ts',
        windows: ['1m'],
        allowedLatenessMs: s.latenessMs,
        aggregates: [{ field: 'temp', kinds: ['count', 'sum', 'min', 'max', 'mean'] }],
        maxRecordBytes: 512,
        sink: { type: 'cassandra', table: 'results' },
        ...pipelineExtra,
      },
    ],
  };
  const file = join(tmpdir(), `${uniqueName('liveagg-cfg')}.yaml`);
  await writeFile(file, stringify(doc));
  return { file, adminPort };
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Events for `devices` devices over `minutes` minutes, each device pinned to one partition,
 * shuffled within a partition by less than the allowed lateness (out of order, never late).
 */
export function generateEvents(
  s: Scenario,
  devices: number,
  perDevicePerMinute: number,
  minutes: number,
  seed = 7,
): TempEvent[][] {
  const rand = rng(seed);
  const start = Date.UTC(2026, 10, 26, 12, 0, 0);
  const byPartition: TempEvent[][] = Array.from({ length: s.partitions }, () => []);
  for (let d = 0; d < devices; d++) {
    const partition = d % s.partitions;
    for (let m = 0; m < minutes; m++) {
      for (let i = 0; i < perDevicePerMinute; i++) {
        const ts = start + m * 60_000 + Math.floor(rand() * 60_000);
        byPartition[partition]!.push({
          device: `dev-${d}`,
          ts,
          temp: Math.round((15 + rand() * 20) * 100) / 100,
          partition,
        });
      }
    }
  }
  // Sort by time, then displace each event by up to 20 s (< lateness): out of order but on time.
  return byPartition.map((events) =>
    events
      .map((e) => ({ e, at: e.ts + rand() * 20_000 }))
      .sort((a, b) => a.at - b.at)
      .map((x) => x.e),
  );
}

export interface ExpectedRow {
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** The reference: count/sum/min/max per (device, 1-minute window), computed straight from the events. */
export function referenceRows(events: TempEvent[][], windowMs: number): Map<string, ExpectedRow> {
  const out = new Map<string, ExpectedRow>();
  for (const e of events.flat()) {
    const key = `${e.device}|${Math.floor(e.ts / windowMs) * windowMs}`;
    const r = out.get(key) ?? {
      count: 0,
      sum: 0,
      min: Number.POSITIVE_INFINITY,
      max: Number.NEGATIVE_INFINITY,
    };
    r.count += 1;
    r.sum += e.temp;
    r.min = Math.min(r.min, e.temp);
    r.max = Math.max(r.max, e.temp);
    out.set(key, r);
  }
  return out;
}

/** Produces events to their partitions in order, then one far-future "end" record per partition that closes every window. */
export async function produceEvents(
  kafka: Kafka,
  s: Scenario,
  events: TempEvent[][],
  opts: { from?: number; to?: number; closeWindows?: boolean } = {},
): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  for (const partitionEvents of events) {
    const slice = partitionEvents.slice(opts.from ?? 0, opts.to ?? partitionEvents.length);
    for (let i = 0; i < slice.length; i += 500) {
      await producer.send({
        topic: s.topic,
        acks: -1,
        messages: slice.slice(i, i + 500).map((e) => ({
          key: e.device,
          partition: e.partition,
          value: JSON.stringify({ device: e.device, ts: e.ts, temp: e.temp }),
        })),
      });
    }
  }
  if (opts.closeWindows) {
    const maxTs = Math.max(...events.flat().map((e) => e.ts));
    await producer.send({
      topic: s.topic,
      acks: -1,
      messages: Array.from({ length: s.partitions }, (_, p) => ({
        key: `end-${p}`,
        partition: p,
        value: JSON.stringify({ device: `__end-${p}`, ts: maxTs + 10 * s.windowMs, temp: 0 }),
      })),
    });
  }
  await producer.disconnect();
}

/** Result rows written by the worker, excluding the end markers' series. */
export async function readResults(s: Scenario): Promise<Map<string, ExpectedRow & { mean: number }>> {
  const client = new Client({ contactPoints: [cassandraContactPoint], localDataCenter: 'datacenter1' });
  try {
    const rs = await client.execute(
      `SELECT series_key, window_start, metrics FROM ${s.keyspace}.results`,
      [],
      { fetchSize: 100_000 },
    );
    const out = new Map<string, ExpectedRow & { mean: number }>();
    for (const row of rs.rows) {
      const series = row['series_key'] as string;
      if (series.startsWith('__end-')) continue;
      const m = row['metrics'] as Record<string, number>;
      out.set(`${series}|${(row['window_start'] as Date).getTime()}`, {
        count: m['temp.count']!,
        sum: m['temp.sum']!,
        min: m['temp.min']!,
        max: m['temp.max']!,
        mean: m['temp.mean']!,
      });
    }
    return out;
  } catch (err) {
    if (
      (err as Error).message.includes('unconfigured table') ||
      (err as Error).message.includes('does not exist')
    )
      return new Map();
    throw err;
  } finally {
    await client.shutdown();
  }
}

/** Asserts the sink holds exactly the reference rows (sums to float tolerance, the rest exactly). */
export function diffResults(
  actual: Map<string, ExpectedRow & { mean: number }>,
  expected: Map<string, ExpectedRow>,
): string[] {
  const problems: string[] = [];
  for (const [key, e] of expected) {
    const a = actual.get(key);
    if (!a) {
      problems.push(`missing ${key}`);
      continue;
    }
    if (a.count !== e.count) problems.push(`${key}: count ${a.count} != ${e.count}`);
    if (Math.abs(a.sum - e.sum) > 1e-6) problems.push(`${key}: sum ${a.sum} != ${e.sum}`);
    if (a.min !== e.min || a.max !== e.max)
      problems.push(`${key}: min/max ${a.min}/${a.max} != ${e.min}/${e.max}`);
    if (Math.abs(a.mean - e.sum / e.count) > 1e-9)
      problems.push(`${key}: mean ${a.mean} != ${e.sum / e.count}`);
  }
  for (const key of actual.keys()) if (!expected.has(key)) problems.push(`extra ${key}`);
  return problems;
}
