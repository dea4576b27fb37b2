import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { AssignerProtocol, type Kafka } from 'kafkajs';
import type { Scenario } from '../../integration/helpers/aggregation-scenario.js';
import {
  awsConnection,
  cassandraContactPoint,
  kafkaBrokers,
} from '../../integration/helpers/stack-endpoints.js';

/** Where one test's local fleet listens and writes. */
export interface FleetPlacement {
  /** Kafka client id prefix; each worker's client id is `<prefix>-<instance id>`. */
  clientId: string;
  adminPortBase: number;
  imdsPortBase: number;
  /** Decision log, generated worker configs and worker logs go under here. */
  dir: string;
}

/** Ports reserved per base (the local fleet's minimum span). */
export const PORT_SPAN = 4;

/**
 * The config document of an autoscaler on a local fleet of `liveagg worker` processes for `s`: the scenario's
 * pipeline (1-minute windows of temperatures, Cassandra sink, S3 checkpoints on moto), a one-pool policy with short
 * intervals that starts at 2 units and may go down to 1, and `checkpointIntervalMs` between periodic checkpoints.
 */
export function localFleetDocument(
  s: Scenario,
  at: FleetPlacement,
  opts: { checkpointIntervalMs: number },
): Record<string, unknown> {
  return {
    kafka: { brokers: kafkaBrokers, clientId: at.clientId },
    cassandra: { contactPoints: [cassandraContactPoint], keyspace: s.keyspace },
    aws: {
      region: awsConnection.region,
      endpoint: awsConnection.endpoint,
      accessKeyId: 'testing',
      secretAccessKey: 'testing',
    },
    worker: {
      groupId: s.groupId,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1000,
      checkpoint: { store: 's3', bucket: s.bucket, intervalMs: opts.checkpointIntervalMs },
      deadLetterTopic: s.dlqTopic,
      drainTimeoutMs: 45_000,
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
      },
    ],
    autoscaler: {
      instanceTypes: [{ name: 'local.e2e', vcpu: 1, memoryGiB: 1, weight: 1 }],
      availabilityZones: ['local-a'],
      minUnits: 1,
      maxUnits: 2,
      targetUtilization: 0.75,
      utilizationBand: [0.5, 0.85],
      maxScaleDownFraction: 0.5,
      scaleUpCooldownMs: 5000,
      scaleDownCooldownMs: 0,
      scaleInSustainMs: 3000,
      noScaleInAfterInterruptionMs: 0,
      lagSloSeconds: 10,
      catchUpSeconds: 30,
      leadTime: { bootMs: 0, joinMs: 3000, restoreMs: 1000 },
      savingHorizonMs: 120_000,
      scaleInMinSavingRatio: 1,
      rebalancePauseMs: 1000,
      drainTimeoutMs: 45_000,
      drainRetries: 1,
      checkpointNoticeBudgetMs: 120_000,
      largestPoolLossHeadroom: false,
      poolBackoffMs: 30_000,
      intervalMs: 1000,
      metricsWindowMs: 5000,
    },
    fleet: {
      provider: 'local',
      initialUnits: 2,
      decisionLogFile: join(at.dir, 'decisions.jsonl'),
      recordsPerSecondPerVcpu: { 'local.e2e': 50_000 },
      local: {
        adminPortBase: at.adminPortBase,
        imdsPortBase: at.imdsPortBase,
        portSpan: PORT_SPAN,
        stateDir: join(at.dir, 'fleet'),
        stopTimeoutMs: 30_000,
        keepTerminatedMs: 600_000,
        notices: false,
      },
    },
  };
}

async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((done) => {
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** A base port in 30000–38999 whose next `count` ports were all free a moment ago. */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 30_000 + Math.floor(Math.random() * 9000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found in 30000–38999`);
}

/** One partition as a worker's `GET /status` reports it. */
export interface StatusPartition {
  topic: string;
  partition: number;
  nextOffset: string | null;
}

/** The partitions a worker owns now (admin `/status`). */
export async function ownedPartitions(adminPort: number): Promise<StatusPartition[]> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/status`, { signal: AbortSignal.timeout(3000) });
  if (!res.ok) throw new Error(`GET /status on ${adminPort} answered ${res.status}`);
  const body = (await res.json()) as { partitions: StatusPartition[] };
  return body.partitions;
}

/** The consumer group as the broker describes it: its state and each member's client id and partitions. */
export async function describeGroup(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<{ state: string; members: { clientId: string; partitions: number[] }[] }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    if (group === undefined) return { state: 'Dead', members: [] };
    return {
      state: group.state,
      members: group.members.map((m) => {
        const decoded =
          m.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
        return {
          clientId: m.clientId,
          partitions: [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b),
        };
      }),
    };
  } finally {
    await admin.disconnect();
  }
}

/** Committed offset per partition of the group (0 where none is committed). */
export async function committedOffsets(
  kafka: Kafka,
  groupId: string,
  topic: string,
  partitions: number,
): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const out = Array.from({ length: partitions }, () => 0);
    for (const p of t?.partitions ?? []) out[p.partition] = Math.max(0, Number(p.offset));
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** The JSON log lines of a worker (pino, one object a line); other lines are skipped. */
export async function workerLogLines(file: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A partial last line.
    }
  }
  return out;
}
