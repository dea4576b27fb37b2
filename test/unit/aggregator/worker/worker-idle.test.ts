import { describe, expect, it } from 'vitest';
import { BlobCheckpointStore } from '../../../../aggregator/checkpoint/blob-checkpoint-store.js';
import { pipelineSchema } from '../../../../aggregator/pipeline/pipeline-schema.js';
import { EngineProcessorFactory } from '../../../../aggregator/worker/engine-processor.js';
import { Worker } from '../../../../aggregator/worker/worker.js';
import { PromWorkerMetrics } from '../../../../infra/metrics/prom-worker-metrics.js';
import { FakeRecordSource } from '../../../fakes/fake-record-source.js';
import { MemoryBlobStore } from '../../../fakes/memory-blob-store.js';
import { observedCheckpointStore } from '../../../fakes/observed-checkpoint-store.js';
import { RecordingDeadLetters, RecordingSink } from '../../../fakes/recording-sink.js';
import { presenceMachine } from '../engine/engine-fixtures.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const IDLE = 30_000;
const tp = { topic: 'in', partition: 0 };

/** Devices online on a report, offline after 2 minutes of silence; counts over 1m windows. */
const pipeline = pipelineSchema.parse({
  name: 'presence',
  source: { topics: ['in'] },
  keyFields: ['device'],
  eventTimeField: 'ts',
  windows: ['1m'],
  allowedLatenessMs: 5_000,
  idleAfterMs: IDLE,
  aggregates: [{ field: 'v', kinds: ['count', 'sum'] }],
  sink: { type: 'cassandra', table: 't' },
  stateMachines: [presenceMachine(2 * MIN)],
});

/** 20 devices report during the first 90 s of event time. */
const burst = Array.from({ length: 200 }, (_, i) =>
  JSON.stringify({ device: `dev-${i % 20}`, ts: T0 + Math.floor((i / 200) * 90_000), v: i }),
);

function setup(blobs?: MemoryBlobStore, clock = { now: 5_000_000 }) {
  const log: string[] = [];
  /** Set by a test to hold checkpoint writes back (a slow store). */
  const hold: { write?: () => Promise<void> } = {};
  const logged: [string, Record<string, unknown>][] = [];
  const store = blobs ?? new MemoryBlobStore(() => clock.now);
  const inner = new BlobCheckpointStore(store, {
    prefix: 'ck',
    writer: 't',
    keep: 5,
    orphanGraceMs: 1000,
    compression: 'snappy',
    now: () => clock.now,
  });
  const checkpoints = observedCheckpointStore(inner, {
    beforeWrite: async () => hold.write?.(),
    afterWrite: (_ref, _snapshot, nextOffset, _stats, extra) =>
      log.push(`checkpoint @${nextOffset}${extra?.advanceWatermarkToMs === undefined ? '' : ' +advance'}`),
  });
  const source = new FakeRecordSource(log);
  const sink = new RecordingSink(log);
  const dead = new RecordingDeadLetters();
  const metrics = new PromWorkerMetrics(false);
  const factory = new EngineProcessorFactory([pipeline], {
    budgetBytes: 256 * 1024 ** 2,
    highWater: 0.9,
    lowWater: 0.75,
  });
  const worker = new Worker({
    id: 'w',
    source,
    factory,
    checkpoints,
    sinkFor: () => sink,
    deadLetters: dead,
    metrics,
    log: {
      info: (f, m) => logged.push([m, f]),
      warn: (f, m) => logged.push([m, f]),
      error: (f, m) => logged.push([m, f]),
    },
    now: () => clock.now,
    sleep: async () => {},
    options: {
      checkpointIntervalMs: 3_600_000,
      drainTimeoutMs: 5_000,
      sinkRetryBaseDelayMs: 1,
      sinkRetryMaxDelayMs: 2,
      maxPendingWrites: 4,
      maxRowsPerWrite: 1_000,
      tickMs: 3_600_000,
    },
  });
  return { worker, source, sink, dead, log, logged, blobs: store, clock, inner, metrics, hold };
}

type Setup = ReturnType<typeof setup>;

async function started(blobs?: MemoryBlobStore, clock?: { now: number }): Promise<Setup> {
  const s = setup(blobs, clock);
  await s.worker.start();
  await s.source.assign([tp]);
  return s;
}

/** A tick, and the idle advance it started (checkpoint, apply, outputs taken) finished. */
async function settledTick(s: Setup): Promise<void> {
  await s.worker.tick();
  await s.worker.checkpointsSettled();
}

const sinkOf = (s: Setup) => ({
  rows: [...s.sink.rows.entries()].sort(([a], [b]) => a.localeCompare(b)),
  transitions: [...s.sink.transitions.entries()].sort(([a], [b]) => a.localeCompare(b)),
});

describe('Worker: idle partitions (pipeline idleAfterMs)', () => {
  it('closes windows and fires timeouts of a silent, caught-up partition, checkpointing each advance first', async () => {
    const s = await started();
    await s.source.deliver('in', 0, 0, burst);
    await settledTick(s);
    // The records closed the first 1m window; the second waits for event time to pass 2m05s.
    expect(new Set([...s.sink.rows.values()].map((r) => r.windowStartMs))).toEqual(new Set([T0]));
    expect(s.sink.transitions.size).toBe(20);

    s.clock.now += IDLE - 1; // not silent long enough
    await settledTick(s);
    expect(s.log.filter((l) => l.includes('+advance'))).toEqual([]);

    // Silent for 66 s: event time moves to the last record's + 36 s = 1m29.55s + 36 s = 2m05.55s,
    // past the second window's close (2m + 5 s of lateness).
    s.clock.now += 36_001;
    const before = s.log.length;
    await settledTick(s);
    expect(s.log.slice(before)).toEqual(['checkpoint @200 +advance', 'commit in:0@200', 'sink 20']);
    const lastTs = T0 + Math.floor((199 / 200) * 90_000);
    const [manifest] = await s.inner.list({ pipeline: 'presence', ...tp });
    expect(manifest!.advanceWatermarkToMs).toBe(lastTs + 66_000 - IDLE);
    expect(new Set([...s.sink.rows.values()].map((r) => r.windowStartMs))).toEqual(new Set([T0, T0 + MIN]));
    expect(s.logged.find(([m]) => m.startsWith('partition silent'))?.[1]).toMatchObject({
      pipeline: 'presence',
      silentSeconds: 66,
      toWatermark: new Date(lastTs + 36_000).toISOString(),
    });
    expect(await s.metrics.registry.getSingleMetricAsString('la_idle_watermark_advances_total')).toContain(
      'la_idle_watermark_advances_total{pipeline="presence"} 1',
    );

    // At most one advance per idleAfterMs; then the timeouts (2 minutes after each device's last report).
    s.clock.now += IDLE - 1;
    await settledTick(s);
    expect(s.log.filter((l) => l.includes('+advance'))).toHaveLength(1);
    s.clock.now += 60_000;
    await settledTick(s);
    expect(s.log.filter((l) => l.includes('+advance'))).toHaveLength(2);
    expect([...s.sink.transitions.values()].filter((t) => t.to === 'offline')).toHaveLength(20);
    // Devices back in the initial state are evicted a window (and its lateness) later: one more
    // advance gives their memory back; then nothing is due, and silence goes on without checkpoints.
    s.clock.now += 10 * MIN;
    await settledTick(s);
    expect(s.log.filter((l) => l.includes('+advance'))).toHaveLength(3);
    const status = s.worker.status() as {
      partitions: { silentSeconds: number; pipelines: Record<string, unknown>[] }[];
    };
    const silentMs = IDLE - 1 + 36_001 + IDLE - 1 + 60_000 + 10 * MIN;
    expect(status.partitions[0]!.silentSeconds).toBe(silentMs / 1000);
    expect(status.partitions[0]!.pipelines[0]).toMatchObject({
      liveSeries: 0,
      nextDue: null,
      idleAfterMs: IDLE,
      watermark: new Date(lastTs + silentMs - IDLE).toISOString(),
    });
    s.clock.now += 10 * MIN;
    await settledTick(s);
    expect(s.log.filter((l) => l.includes('+advance'))).toHaveLength(3);
  });

  it('does not advance a partition with records left in Kafka (a backlog is not silence)', async () => {
    const s = await started();
    await s.source.deliver('in', 0, 0, burst);
    s.source.ends.set('in:0', 250); // 50 more records produced, not fetched yet
    s.clock.now += 10 * MIN;
    await settledTick(s);
    expect(s.log.filter((l) => l.includes('+advance'))).toEqual([]);
    expect(new Set([...s.sink.rows.values()].map((r) => r.windowStartMs))).toEqual(new Set([T0]));
    s.source.ends.set('in:0', 200);
    await settledTick(s);
    expect(s.log.filter((l) => l.includes('+advance'))).toHaveLength(1);
  });

  it('a worker dying right after the advance checkpoint: its successor makes the same outputs, and late records stay late', async () => {
    const later = [
      JSON.stringify({ device: 'dev-3', ts: T0 + MIN + 30_000, v: 1000 }), // its window closed by the advance: late
      JSON.stringify({ device: 'dev-4', ts: T0 + 3 * MIN, v: 1001 }),
      JSON.stringify({ device: 'dev-4', ts: T0 + 5 * MIN, v: 1002 }),
    ];
    // Fault-free.
    const a = await started();
    await a.source.deliver('in', 0, 0, burst);
    a.clock.now += 66_001;
    await settledTick(a);
    a.clock.now += 1_000;
    await a.source.deliver('in', 0, 200, later);
    await a.worker.checkpointNow();

    // The same, but the sink hangs from the advance on and the worker dies.
    const b = await started();
    await b.source.deliver('in', 0, 0, burst);
    await settledTick(b);
    b.sink.gate = () => new Promise<void>(() => {}); // writes from now on never finish
    b.clock.now += 66_001;
    const writing = b.worker.tick(); // checkpoints the advance, then its writes hang forever
    await new Promise((r) => setTimeout(r, 20));
    expect(b.log).toContain('checkpoint @200 +advance');
    expect(b.sink.rows.size).toBe(20);
    void writing;
    // Its successor restores the advance from the checkpoint and writes what the first could not.
    const c = await started(b.blobs, { now: b.clock.now + 5_000 });
    expect(c.logged.find(([m]) => m === 'restored partition from checkpoint')?.[1]).toMatchObject({
      advancedWatermarkTo: new Date(T0 + Math.floor((199 / 200) * 90_000) + 36_001).toISOString(),
    });
    await settledTick(c);
    await c.source.deliver('in', 0, 200, later);
    await c.worker.checkpointNow();
    // b's first window and transitions, then c's: together exactly the fault-free run's outputs.
    for (const [k, r] of b.sink.rows) c.sink.rows.set(k, r);
    for (const [k, t] of b.sink.transitions) c.sink.transitions.set(k, t);
    expect(sinkOf(c)).toEqual(sinkOf(a));
    expect(c.dead.letters.map((d) => [d.offset, d.reason])).toEqual([['200', 'late']]);
    expect(a.dead.letters.map((d) => [d.offset, d.reason])).toEqual([['200', 'late']]);
  });

  it('uploads an advance in the background: other partitions go on, the silent one waits for it', async () => {
    const s = await started();
    const other = { topic: 'in', partition: 1 };
    await s.source.assign([other]);
    await s.source.deliver('in', 0, 0, burst);
    s.clock.now += 66_001;
    // Partition 1 is busy; partition 0 has been silent for 66 s.
    const busy = (from: number) =>
      Array.from({ length: 5 }, (_, i) =>
        JSON.stringify({ device: `p1-${i}`, ts: T0 + 30 * MIN + from + i, v: i }),
      );
    await s.source.deliver('in', 1, 0, busy(0));
    let release = () => {};
    s.hold.write = () => new Promise<void>((r) => (release = r));

    // The tick captures the advance and returns while its checkpoint is uploading.
    await s.worker.tick();
    expect(s.source.paused).toEqual(new Set(['in:0']));
    const advancing = (s.worker.status() as { partitions: { partition: number; idleAdvancing: boolean }[] })
      .partitions;
    expect(advancing.map((p) => [p.partition, p.idleAdvancing])).toEqual([
      [0, true],
      [1, false],
    ]);
    expect(await s.source.deliver('in', 1, 5, busy(5))).toEqual({ kind: 'consumed', nextOffset: '10' });
    // Partition 0's records come after the advance: sent back until it is applied.
    const late = JSON.stringify({ device: 'dev-3', ts: T0 + MIN + 30_000, v: 1000 });
    expect(await s.source.deliver('in', 0, 200, [late])).toEqual({ kind: 'seek', offset: '200' });
    expect(s.log.filter((l) => l.includes('+advance'))).toEqual([]);
    expect([...s.sink.rows.values()].filter((r) => r.windowStartMs === T0 + MIN)).toEqual([]);

    release();
    await s.worker.checkpointsSettled();
    expect(s.log.filter((l) => l.includes('+advance'))).toEqual(['checkpoint @200 +advance']);
    expect(s.source.paused).toEqual(new Set());
    expect(
      (s.worker.status() as { partitions: { idleAdvancing: boolean }[] }).partitions[0]!.idleAdvancing,
    ).toBe(false);
    expect([...s.sink.rows.values()].filter((r) => r.windowStartMs === T0 + MIN)).toHaveLength(20);
    // Fetched again, the record is late: its window was closed by the advance.
    expect(await s.source.deliver('in', 0, 200, [late])).toEqual({ kind: 'consumed', nextOffset: '201' });
    expect(s.dead.letters.map((d) => [d.offset, d.reason])).toEqual([['200', 'late']]);
  });
});
