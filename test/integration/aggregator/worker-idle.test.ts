import type { Kafka } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  newScenario,
  produceEvents,
  referenceRows,
  type Scenario,
  type TempEvent,
  writeWorkerConfig,
} from '../helpers/aggregation-scenario.js';
import { eventually, startCli } from '../helpers/cli-process.js';
import { presenceMachine, readTransitions, referenceTransitions } from '../helpers/presence-reference.js';
import { kafkaClient } from '../helpers/stack-endpoints.js';
import { applySchema, expectExactly, WorkerFleet } from '../helpers/worker-harness.js';

const fleet = new WorkerFleet();
afterEach(() => fleet.killAll());

const SILENCE_MS = 20_000;
const START = Date.UTC(2026, 10, 26, 12, 0, 0);

/**
 * 8 devices on 2 partitions reporting every 12 s: 3 minutes of reports, then (phase 2) 2 more
 * minutes starting 10 minutes later. No end marker ever comes: only the partitions' silence can
 * close their last windows and time the devices out.
 */
function events(s: Scenario, phase: 1 | 2): TempEvent[][] {
  const byPartition: TempEvent[][] = Array.from({ length: s.partitions }, () => []);
  const from = phase === 1 ? START : START + 10 * 60_000;
  const reports = phase === 1 ? 15 : 10;
  for (let k = 0; k < reports; k++) {
    for (let d = 0; d < 8; d++) {
      byPartition[d % s.partitions]!.push({
        device: `dev-${d}`,
        ts: from + k * 12_000 + d * 500,
        temp: (d * 31 + k * 7) % 40,
        partition: d % s.partitions,
      });
    }
  }
  return byPartition;
}

/**
 * Produces events as a transactional producer does (Flink's or Kafka Streams' exactly-once
 * output upstream): each partition's events in one committed transaction, so every partition
 * ends with a commit marker — an offset that holds no record.
 */
async function produceTransactionally(kafka: Kafka, s: Scenario, events: TempEvent[][]): Promise<void> {
  const producer = kafka.producer({
    transactionalId: `${s.topic}-tx`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    for (const partitionEvents of events) {
      const tx = await producer.transaction();
      await tx.send({
        topic: s.topic,
        messages: partitionEvents.map((e) => ({
          key: e.device,
          partition: e.partition,
          value: JSON.stringify({ device: e.device, ts: e.ts, temp: e.temp }),
        })),
      });
      await tx.commit();
    }
  } finally {
    await producer.disconnect();
  }
}

/** The worker's `la_idle_watermark_advances_total` over its pipelines. */
async function idleAdvances(adminPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('la_idle_watermark_advances_total{'))
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
  return n;
}

describe('aggregator worker on silent partitions (real Kafka, Cassandra and S3)', () => {
  it('closes the last windows and times devices out without records, across a kill -9 right after an idle advance', async () => {
    const kafka = kafkaClient();
    const s = await newScenario(kafka, 2);
    const first = events(s, 1);
    const second = events(s, 2);
    const all = first.map((p, i) => [...p, ...second[i]!]);
    const { file, adminPort } = await writeWorkerConfig(
      s,
      undefined,
      {},
      {},
      { allowedLatenessMs: 1_000, idleAfterMs: 1_000, stateMachines: [presenceMachine(SILENCE_MS)] },
    );
    await applySchema(file);

    // Phase 1, then silence: the worker advances the idle partitions (checkpointing each advance
    // before its outputs) and is killed -9 as soon as it has done so — outputs written or not.
    const w1 = await fleet.start(file, adminPort, 'idle-worker-1');
    await produceEvents(kafka, s, first);
    await eventually(
      async () => ((await idleAdvances(adminPort)) > 0 ? true : undefined),
      60_000,
      'an idle advance',
    );
    await fleet.kill(w1);

    // Its successor restores (and re-applies a checkpointed advance), then phase 2 — from a
    // transactional producer: each partition now ends with a commit marker, which must not count
    // as a record left to consume — and silence again.
    await fleet.start(file, adminPort, 'idle-worker-2');
    await produceTransactionally(kafka, s, second);

    // Every window and every transition of the reference, the last ones closed by silence alone.
    await expectExactly(s, referenceRows(all, s.windowMs));
    const expected = referenceTransitions(all, SILENCE_MS);
    const got = await eventually(
      async () => {
        const rows = await readTransitions(s);
        return rows.length >= expected.size ? rows : undefined;
      },
      120_000,
      `${expected.size} transitions`,
    );
    expect(got).toHaveLength(expected.size);
    expect(new Set(got)).toEqual(expected);
    expect(await idleAdvances(adminPort)).toBeGreaterThan(0);

    // `liveagg status` shows what the silence did: both partitions caught up and silent, their
    // watermarks moved past the last records by the advances, nothing left due.
    const status = startCli(['status', '--config', file, '--json'], { name: 'idle-status' });
    expect(await status.exited).toBe(0);
    const doc = JSON.parse(status.stdout()) as {
      workers: {
        status: {
          partitions: { lag: number; silentSeconds: number; pipelines: Record<string, unknown>[] }[];
        };
      }[];
    };
    const partitions = doc.workers[0]!.status.partitions;
    expect(partitions).toHaveLength(2);
    const lastTs = Math.max(...all.flat().map((e) => e.ts));
    for (const p of partitions) {
      // Caught up: the commit marker ending each partition is not a record left to consume.
      expect(p.lag).toBe(0);
      expect(p.silentSeconds).toBeGreaterThan(1);
      const [pipeline] = p.pipelines;
      expect(pipeline).toMatchObject({ name: 'temps', idleAfterMs: 1_000 });
      expect(Date.parse(pipeline!['watermark'] as string)).toBeGreaterThan(lastTs + SILENCE_MS);
    }
  });
});
