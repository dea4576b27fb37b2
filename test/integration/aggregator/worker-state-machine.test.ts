import type { Kafka } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  newScenario,
  produceEvents,
  referenceRows,
  rng,
  type Scenario,
  type TempEvent,
  writeWorkerConfig,
} from '../helpers/aggregation-scenario.js';
import { eventually } from '../helpers/cli-process.js';
import { presenceMachine, readTransitions, referenceTransitions } from '../helpers/presence-reference.js';
import { kafkaClient, readJsonLines } from '../helpers/stack-endpoints.js';
import { applySchema, expectExactly, WorkerFleet, waitForCommitted } from '../helpers/worker-harness.js';

const fleet = new WorkerFleet();
afterEach(() => fleet.killAll());

const SILENCE_MS = 300_000;

const presence = presenceMachine(SILENCE_MS);

/**
 * Devices reporting about once a minute with silences of 6–12 minutes now and then, each pinned
 * to a partition; a partition's events in time order (so none is late).
 */
function presenceEvents(s: Scenario, devices: number, reports: number): TempEvent[][] {
  const rand = rng(11);
  const start = Date.UTC(2026, 10, 26, 12, 0, 0);
  const byPartition: TempEvent[][] = Array.from({ length: s.partitions }, () => []);
  for (let d = 0; d < devices; d++) {
    let ts = start + d * 7_000;
    for (let i = 0; i < reports; i++) {
      byPartition[d % s.partitions]!.push({
        device: `dev-${d}`,
        ts,
        temp: Math.round(rand() * 3000) / 100,
        partition: d % s.partitions,
      });
      ts += rand() < 0.15 ? 360_000 + Math.floor(rand() * 360_000) : 40_000 + Math.floor(rand() * 40_000);
    }
  }
  return byPartition.map((events) => events.sort((a, b) => a.ts - b.ts || (a.device < b.device ? -1 : 1)));
}

/**
 * A worker takes the first half of each partition's events and is killed (kill -9) once its
 * offsets are committed; its successor restores the checkpoint, replays and takes the rest, then
 * the end markers close every window.
 */
async function produceAcrossKill(
  kafka: Kafka,
  s: Scenario,
  events: TempEvent[][],
  file: string,
  adminPort: number,
  name: string,
): Promise<void> {
  const first = await fleet.start(file, adminPort, `${name}-1`);
  const half = Math.floor(events[0]!.length / 2);
  await produceEvents(kafka, s, events, { to: half });
  await waitForCommitted(kafka, s);
  await fleet.kill(first);
  await fleet.start(file, adminPort, `${name}-2`);
  await produceEvents(kafka, s, events, { from: half, closeWindows: true });
}

describe('aggregator worker with a state machine (real Kafka and Cassandra)', () => {
  it('writes exactly the reference transitions, timeouts in event time, 5 per write, across a kill -9 and a replay', async () => {
    const kafka = kafkaClient();
    const s = await newScenario(kafka, 2);
    const events = presenceEvents(s, 24, 40);
    const expected = referenceTransitions(events, SILENCE_MS);
    expect([...expected].filter((t) => t.endsWith('|timeout')).length).toBeGreaterThan(24);
    // Transitions go to the sink 5 per write: the end marker times every device out in one
    // watermark step, handed over in parts.
    const { file, adminPort } = await writeWorkerConfig(
      s,
      undefined,
      { sink: { maxRowsPerWrite: 5 } },
      {},
      { stateMachines: [presence] },
    );
    await applySchema(file);

    await produceAcrossKill(kafka, s, events, file, adminPort, 'sm-worker');

    const got = await eventually(
      async () => {
        const rows = await readTransitions(s);
        return rows.length >= expected.size ? rows : undefined;
      },
      120_000,
      `${expected.size} transitions`,
    );
    // Each transition once (a replay rewrites the same primary key), and exactly the reference's.
    expect(got).toHaveLength(expected.size);
    expect(new Set(got)).toEqual(expected);
    await expectExactly(s, referenceRows(events, s.windowMs));
  });
});

interface S3Transition {
  seriesKey: string;
  atMs: number;
  from: string;
  to: string;
  cause: string;
}

/** The transition objects the worker wrote under `prefix`, as `device|at|from|to|cause` (end markers' series left out). */
async function readS3Transitions(
  bucket: string,
  prefix: string,
): Promise<{ keys: string[]; lines: string[] }> {
  const { keys, lines } = await readJsonLines<S3Transition>(bucket, prefix);
  return {
    keys,
    lines: lines
      .filter((t) => !t.seriesKey.startsWith('__end-'))
      .map((t) => `${t.seriesKey}|${t.atMs}|${t.from}|${t.to}|${t.cause}`),
  };
}

describe('aggregator worker with a state machine and the S3 sink (real Kafka and S3)', () => {
  it('writes exactly the reference transitions, an object per part of each partition, across a kill -9 and a replay', async () => {
    const kafka = kafkaClient();
    const s = await newScenario(kafka, 2);
    const events = presenceEvents(s, 24, 40);
    const expected = referenceTransitions(events, SILENCE_MS);
    const { file, adminPort } = await writeWorkerConfig(
      s,
      undefined,
      { sink: { maxRowsPerWrite: 50 } },
      {},
      { stateMachines: [presence], sink: { type: 's3', bucket: s.bucket, prefix: 'results' } },
    );

    await produceAcrossKill(kafka, s, events, file, adminPort, 'sm-s3-worker');

    const got = await eventually(
      async () => {
        const read = await readS3Transitions(s.bucket, 'results/temps/transitions');
        return read.lines.length >= expected.size ? read : undefined;
      },
      120_000,
      `${expected.size} transitions in S3`,
    );
    // Each transition once (a replay rewrites the same parts with the same lines), exactly the reference's.
    expect(got.lines).toHaveLength(expected.size);
    expect(new Set(got.lines)).toEqual(expected);
    // Grouped: an object per part of a partition's sequence (parts end where a 1m window closed,
    // here a few transitions each): consecutive, at most one per 1m window the partition spans.
    expect(got.keys.length).toBeLessThan(expected.size);
    for (const p of [0, 1]) {
      const times = events[p]!.map((e) => e.ts);
      const windows = Math.floor(Math.max(...times) / 60_000) - Math.floor(Math.min(...times) / 60_000) + 1;
      const ranges = got.keys
        .filter((k) => k.includes(`/transitions/${encodeURIComponent(s.topic)}-${p}/`))
        .map((k) => /seq-(\d{12})-(\d{12})\.jsonl\.gz$/.exec(k)!)
        .map((m) => [Number(m[1]), Number(m[2])] as const);
      expect(ranges.length, `partition ${p}`).toBeGreaterThan(1);
      // (+ the end marker's window and the timeouts it fires)
      expect(ranges.length, `partition ${p}`).toBeLessThanOrEqual(windows + 2);
      expect(ranges.map(([from]) => from)).toEqual([0, ...ranges.slice(0, -1).map(([, to]) => to)]);
    }
  });
});
