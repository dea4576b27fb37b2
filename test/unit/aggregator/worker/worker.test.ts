import { describe, expect, it, vi } from 'vitest';
import { BlobCheckpointStore } from '../../../../aggregator/checkpoint/blob-checkpoint-store.js';
import { Worker } from '../../../../aggregator/worker/worker.js';
import { PromWorkerMetrics } from '../../../../infra/metrics/prom-worker-metrics.js';
import { FakeRecordSource } from '../../../fakes/fake-record-source.js';
import { MemoryBlobStore } from '../../../fakes/memory-blob-store.js';
import { observedCheckpointStore } from '../../../fakes/observed-checkpoint-store.js';
import { RecordingDeadLetters, RecordingSink } from '../../../fakes/recording-sink.js';
import { SummingFactory } from '../../../fakes/summing-processor.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };

function setup(
  opts: {
    checkpointIntervalMs?: number;
    blobs?: MemoryBlobStore;
    logged?: [string, Record<string, unknown>][];
    sinkRetryDelayMs?: number;
    slept?: number[];
    /** Checkpoint writes wait for this before they start. */
    writeGate?: () => Promise<void>;
    maxRowsPerWrite?: number;
  } = {},
) {
  const log: string[] = [];
  const metrics = new PromWorkerMetrics(false);
  let now = 1_000_000;
  const blobs = opts.blobs ?? new MemoryBlobStore(() => now);
  const inner = new BlobCheckpointStore(blobs, {
    prefix: 'ck',
    writer: 't',
    keep: 3,
    orphanGraceMs: 1000,
    compression: 'snappy',
    now: () => now,
  });
  const checkpoints = observedCheckpointStore(inner, {
    ...(opts.writeGate ? { beforeWrite: opts.writeGate } : {}),
    afterWrite: (ref, _snapshot, nextOffset) =>
      log.push(`checkpoint ${ref.topic}:${ref.partition}@${nextOffset}`),
  });
  const source = new FakeRecordSource(log);
  const factory = new SummingFactory();
  const sink = new RecordingSink(log);
  const dead = new RecordingDeadLetters();
  const worker = new Worker({
    id: 'w1',
    source,
    factory,
    checkpoints,
    sinkFor: () => sink,
    deadLetters: dead,
    metrics,
    log: opts.logged
      ? {
          info: (f, m) => opts.logged!.push([m, f]),
          warn: (f, m) => opts.logged!.push([m, f]),
          error: (f, m) => opts.logged!.push([m, f]),
        }
      : silent,
    now: () => now,
    // Retry backoffs pass at once; a drain deadline (seconds away) never arrives in these tests.
    sleep: (ms) => {
      opts.slept?.push(ms);
      return ms < 1000 || opts.slept ? Promise.resolve() : new Promise<void>(() => {});
    },
    options: {
      checkpointIntervalMs: opts.checkpointIntervalMs ?? 1000,
      drainTimeoutMs: 5000,
      sinkRetryBaseDelayMs: opts.sinkRetryDelayMs ?? 1,
      sinkRetryMaxDelayMs: opts.sinkRetryDelayMs ?? 2,
      maxPendingWrites: 8,
      maxRowsPerWrite: opts.maxRowsPerWrite ?? 1000,
      tickMs: 60_000,
    },
  });
  return { worker, source, factory, sink, dead, log, blobs, metrics, advance: (ms: number) => (now += ms) };
}

const tp = { topic: 't', partition: 0 };

/** A second worker assigned `tp` after a first one applied offset 0 and checkpointed (it restores next offset 1). */
async function restoredAfterOneRecord() {
  const first = setup();
  await first.worker.start();
  await first.source.assign([tp]);
  await first.source.deliver('t', 0, 0, ['a=1']);
  await first.worker.checkpointNow();
  const second = setup({ blobs: first.blobs });
  await second.worker.start();
  await second.source.assign([tp]);
  return second;
}

describe('Worker', () => {
  it('writes outputs, then checkpoints, then commits the covered offset', async () => {
    const s = setup();
    await s.worker.start();
    await s.source.assign([tp]);
    expect(await s.source.deliver('t', 0, 0, ['a=1', 'b=2'])).toEqual({ kind: 'consumed', nextOffset: '2' });
    expect(s.source.commits).toEqual([]);
    s.advance(1000);
    await s.source.deliver('t', 0, 2, ['a=3']);
    await s.worker.checkpointsSettled();
    expect(s.log).toEqual(['sink 2', 'sink 1', 'checkpoint t:0@3', 'commit t:0@3']);
  });

  it('restores from the checkpoint after a rebalance and skips records its state already holds', async () => {
    const first = setup();
    await first.worker.start();
    await first.source.assign([tp]);
    await first.source.deliver('t', 0, 0, ['a=1', 'a=2']);
    await first.worker.checkpointNow();
    await first.source.deliver('t', 0, 2, ['a=4']); // applied but never checkpointed: a crash loses it

    const second = setup({ blobs: first.blobs });
    await second.worker.start();
    await second.source.assign([tp]);
    // Kafka redelivers from an older committed offset: the restored state already holds 0 and 1.
    expect(await second.source.deliver('t', 0, 0, ['a=1', 'a=2', 'a=4', 'a=8'])).toEqual({
      kind: 'consumed',
      nextOffset: '4',
    });
    expect(second.factory.created[0]!.sum('a')).toBe(15);
  });

  it('seeks back when the fetch position is past the restored checkpoint, again while batches fetched ahead arrive', async () => {
    const second = await restoredAfterOneRecord();
    expect(await second.source.deliver('t', 0, 5, ['a=1'])).toEqual({ kind: 'seek', offset: '1' });
    // A batch fetched before the seek arrives after it: still past the checkpoint, so back again (not a gap).
    expect(await second.source.deliver('t', 0, 6, ['a=1'])).toEqual({ kind: 'seek', offset: '1' });
    // The seek took: the records from the checkpoint on are applied, none skipped.
    expect(await second.source.deliver('t', 0, 1, ['a=1', 'a=1'])).toEqual({
      kind: 'consumed',
      nextOffset: '3',
    });
  });

  it('takes a gap in offsets as real only after several batches in a row start past the seek target', async () => {
    const second = await restoredAfterOneRecord();
    for (let i = 0; i < 8; i++)
      expect(await second.source.deliver('t', 0, 5, ['a=1'])).toEqual({ kind: 'seek', offset: '1' });
    // Offsets 1–4 do not exist (e.g. transaction markers): continued from the batch.
    expect(await second.source.deliver('t', 0, 5, ['a=1'])).toEqual({ kind: 'consumed', nextOffset: '6' });
  });

  it('retries a failing sink without advancing and never checkpoints past unwritten results', async () => {
    const s = setup({ checkpointIntervalMs: 0 });
    await s.worker.start();
    await s.source.assign([tp]);
    s.sink.failuresLeft = 3;
    await s.source.deliver('t', 0, 0, ['a=1']);
    await s.worker.checkpointsSettled();
    expect(s.log).toEqual([
      'sink-fail',
      'sink-fail',
      'sink-fail',
      'sink 1',
      'checkpoint t:0@1',
      'commit t:0@1',
    ]);
  });

  it('hands a large closed window to the sink part by part as writes complete, holding at most maxPendingWrites + 1 parts', async () => {
    const s = setup({ maxRowsPerWrite: 2 });
    await s.worker.start();
    await s.source.assign([tp]);
    let open = (): void => {};
    const opened = new Promise<void>((resolve) => {
      open = resolve;
    });
    s.sink.gate = () => opened;
    const values = Array.from({ length: 50 }, (_, i) => `k${i}=${i}`);
    let done = false;
    const delivered = s.source.deliver('t', 0, 0, values).then((out) => {
      done = true;
      return out;
    });
    for (let i = 0; i < 20; i++) await Promise.resolve();
    // The sink holds nothing yet: 8 queued writes + 1 taken, 2 rows each; the rest waits in the processor.
    expect(done).toBe(false);
    expect(s.sink.inFlight).toBe(9);
    expect(s.factory.created[0]!.pendingResults()).toBe(50 - 18);
    open();
    expect(await delivered).toEqual({ kind: 'consumed', nextOffset: '50' });
    await s.worker.checkpointNow();
    expect(s.sink.maxInFlight).toBe(9);
    expect(s.sink.writes).toBe(25);
    expect([...s.sink.rows.values()].map((r) => r.seriesKey).sort()).toEqual(
      values.map((v) => v.split('=')[0]).sort(),
    );
    expect(s.factory.created[0]!.pendingResults()).toBe(0);
  });

  it('does not commit when the checkpoint cannot be written', async () => {
    const s = setup({ checkpointIntervalMs: 0 });
    await s.worker.start();
    await s.source.assign([tp]);
    s.blobs.failNext(1, ['put'], false);
    await s.source.deliver('t', 0, 0, ['a=1']);
    await s.worker.checkpointsSettled();
    expect(s.source.commits).toEqual([]);
    await s.source.deliver('t', 0, 1, ['a=1']);
    await s.worker.checkpointsSettled();
    expect(s.source.commits).toEqual([{ ...tp, offset: '2' }]);
  });

  it('sends malformed records to the dead-letter sink and keeps going', async () => {
    const s = setup();
    await s.worker.start();
    await s.source.assign([tp]);
    await s.source.deliver('t', 0, 0, ['bad', 'a=1']);
    expect(s.dead.letters).toEqual([
      expect.objectContaining({ reason: 'malformed_json', offset: '0', topic: 't' }),
    ]);
    expect(s.factory.created[0]!.sum('a')).toBe(1);
  });

  it('drains once: checkpoints and commits every owned partition, then leaves the group', async () => {
    const s = setup();
    await s.worker.start();
    await s.source.assign([tp, { topic: 't', partition: 1 }]);
    await s.source.deliver('t', 0, 0, ['a=1']);
    await s.source.deliver('t', 1, 0, ['b=1', 'b=2']);
    const a = s.worker.drain('test');
    const b = s.worker.drain('again');
    expect(a).toBe(b);
    const report = await a;
    expect(report.complete).toBe(true);
    expect(report.checkpoints.map((c) => `${c.partition}@${c.nextOffset}`).sort()).toEqual(['0@1', '1@2']);
    expect(s.source.commits).toEqual(
      expect.arrayContaining([
        { ...tp, offset: '1' },
        { topic: 't', partition: 1, offset: '2' },
      ]),
    );
    expect(s.source.stopped).toBe(1);
    expect(s.log.at(-1)).toBe('stop');
    expect(s.factory.created.every((p) => p.released)).toBe(true);
    // A batch that was already in flight is not applied after the drain.
    expect(await s.source.deliver('t', 0, 1, ['a=5'])).toEqual({ kind: 'seek', offset: '1' });
  });

  it('pauses fetching under memory pressure and resumes below the low-water mark', async () => {
    const s = setup();
    await s.worker.start();
    await s.source.assign([tp]);
    s.factory.pressure = 'pause';
    await s.source.deliver('t', 0, 0, ['a=1']);
    expect([...s.source.paused]).toEqual(['t:0']);
    s.factory.pressure = 'ok';
    await s.source.deliver('t', 0, 1, ['a=1']);
    expect([...s.source.paused]).toEqual([]);
  });

  it('counts records below the high watermark at restore as replayed, logging progress with lag', async () => {
    const first = setup();
    await first.worker.start();
    await first.source.assign([tp]);
    await first.source.deliver('t', 0, 0, ['a=1', 'a=2']);
    await first.worker.checkpointNow();

    const logged: [string, Record<string, unknown>][] = [];
    const second = setup({ blobs: first.blobs, logged });
    await second.worker.start();
    await second.source.assign([tp]);
    // The partition holds 10 records when first fetched: 2..9 are the replay.
    await second.source.deliver('t', 0, 2, ['a=1', 'a=1', 'a=1'], 10);
    second.advance(5_000);
    await second.source.deliver('t', 0, 5, ['a=1', 'a=1'], 12);
    expect(logged.find(([m]) => m === 'replaying')?.[1]).toMatchObject({
      replayedRecords: 5,
      lag: 3,
      until: '10',
      seconds: 5,
    });
    expect(logged.some(([m]) => m === 'replay finished')).toBe(false);
    // Records past the target (10, 11) are live, not replayed.
    await second.source.deliver('t', 0, 7, ['a=1', 'a=1', 'a=1', 'a=1', 'a=1'], 12);
    expect(logged.filter(([m]) => m === 'replay finished').map(([, f]) => f)).toEqual([
      expect.objectContaining({ replayedRecords: 8, nextOffset: '12' }),
    ]);
    await second.source.deliver('t', 0, 12, ['a=1'], 13);
    expect(logged.filter(([m]) => m === 'replay finished' || m === 'replaying')).toHaveLength(2);
    const metrics = await second.metrics.registry.getSingleMetricAsString('la_replay_records_total');
    expect(metrics).toMatch(/la_replay_records_total\{pipeline="[^"]+"\} 8$/m);
  });

  it('heartbeats at least every second while it backs off from a failing sink', async () => {
    const slept: number[] = [];
    const s = setup({ sinkRetryDelayMs: 2500, slept });
    await s.worker.start();
    await s.source.assign([tp]);
    s.sink.failuresLeft = 2;
    await s.source.deliver('t', 0, 0, ['a=1']);
    s.advance(1000);
    await s.source.deliver('t', 0, 1, ['a=1']); // due checkpoint: stored in the background once the writes are
    await s.worker.checkpointsSettled();
    // Two writes failed once each (they overlap): each backoff of 2.5 s is slept as 1 s + 1 s + 0.5 s.
    expect(slept.sort((a, b) => a - b)).toEqual([500, 500, 1000, 1000, 1000, 1000]);
    expect(s.source.heartbeats).toBeGreaterThanOrEqual(slept.length);
    expect(s.sink.writes).toBe(2);
  });

  it('keeps heartbeating the group while a checkpoint that must be durable is stuck in storage', async () => {
    vi.useFakeTimers();
    try {
      let release = () => {};
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const s = setup({ writeGate: () => gate });
      await s.worker.start();
      await s.source.assign([tp]);
      await s.source.deliver('t', 0, 0, ['a=1']);
      const beforeBeats = s.source.heartbeats;
      const checkpointed = s.worker.checkpointNow();
      await vi.advanceTimersByTimeAsync(3_500);
      expect(s.source.heartbeats - beforeBeats).toBeGreaterThanOrEqual(3);
      release();
      await checkpointed;
      const beats = s.source.heartbeats;
      await vi.advanceTimersByTimeAsync(3_000);
      // Heartbeats stop with the checkpoint.
      expect(s.source.heartbeats).toBe(beats);
      expect(s.source.commits).toEqual([{ ...tp, offset: '1' }]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps consuming while a periodic checkpoint is stuck in storage, one at a time, and commits once it is stored', async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const s = setup({ checkpointIntervalMs: 0, writeGate: () => gate });
    await s.worker.start();
    await s.source.assign([tp]);
    // Each batch returns although the checkpoint it started (state at offset 1) cannot be stored yet.
    expect(await s.source.deliver('t', 0, 0, ['a=1'])).toEqual({ kind: 'consumed', nextOffset: '1' });
    expect(await s.source.deliver('t', 0, 1, ['a=2'])).toEqual({ kind: 'consumed', nextOffset: '2' });
    expect(await s.source.deliver('t', 0, 2, ['a=4'])).toEqual({ kind: 'consumed', nextOffset: '3' });
    expect(s.factory.created[0]!.sum('a')).toBe(7);
    expect(s.source.commits).toEqual([]);
    // The snapshot copy being stored is charged to the memory budget until it is stored.
    expect(s.factory.held).toBe(Buffer.from(JSON.stringify({ a: 1 })).length);
    release();
    await s.worker.checkpointsSettled();
    expect(s.factory.held).toBe(0);
    // Only the first checkpoint was in flight (the later batches did not start others), and it covers offset 1.
    expect(s.log.filter((l) => l.startsWith('checkpoint'))).toEqual(['checkpoint t:0@1']);
    expect(s.source.commits).toEqual([{ ...tp, offset: '1' }]);
    // The next batch checkpoints the state it reached, after everything before it.
    await s.source.deliver('t', 0, 3, ['a=8']);
    await s.worker.checkpointsSettled();
    expect(s.source.commits).toEqual([
      { ...tp, offset: '1' },
      { ...tp, offset: '4' },
    ]);
  });

  it('returns a snapshot copy to the memory budget when its store fails too', async () => {
    let fail = (_: Error) => {};
    const gate = new Promise<void>((_, reject) => {
      fail = reject;
    });
    const s = setup({ checkpointIntervalMs: 0, writeGate: () => gate });
    await s.worker.start();
    await s.source.assign([tp]);
    await s.source.deliver('t', 0, 0, ['a=1', 'b=2']);
    expect(s.factory.held).toBe(Buffer.from(JSON.stringify({ a: 1, b: 2 })).length);
    expect(s.factory.memory().usedBytes).toBe(10 + s.factory.held);
    fail(new Error('S3 is down'));
    await s.worker.checkpointsSettled();
    expect(s.factory.held).toBe(0);
    expect(s.source.commits).toEqual([]);
  });

  it('a checkpoint that must be durable waits for a periodic one in flight, so commits stay in offset order', async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let gated = true;
    const s = setup({ checkpointIntervalMs: 0, writeGate: () => (gated ? gate : Promise.resolve()) });
    await s.worker.start();
    await s.source.assign([tp]);
    await s.source.deliver('t', 0, 0, ['a=1']); // periodic checkpoint at 1, stuck
    await s.source.deliver('t', 0, 1, ['a=2']);
    const drained = s.worker.drain('test');
    await new Promise((r) => setTimeout(r, 20));
    expect(s.source.commits).toEqual([]);
    gated = false;
    release();
    const report = await drained;
    expect(report.complete).toBe(true);
    expect(s.source.commits).toEqual([
      { ...tp, offset: '1' },
      { ...tp, offset: '2' },
    ]);
    expect(report.checkpoints.map((c) => c.nextOffset)).toEqual(['2']);
  });
});
