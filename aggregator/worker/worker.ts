import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { DeadLetter } from '../dead-letter/dead-letter.js';
import type { DeadLetterSink, Sink } from '../ports/sink.js';
import { type OwnedPartition, type PipelineSlot, partitionNextOffset, tpKey } from './owned-partition.js';
import type { ProcessorFactory, ProcessorOutputs } from './partition-processor.js';
import type { BatchOutcome, RecordSource, SourceBatch, TopicPartition } from './record-source.js';
import { SerialLock } from './serial-lock.js';
import {
  type CheckpointSummary,
  captureSnapshots,
  checkpointPartition,
  durableCheckpoints,
  noteReplay,
  restorePartition,
  storeSnapshots,
} from './worker-checkpoints.js';
import type { WorkerLog } from './worker-log.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** Longest wait between consumer-group heartbeats while a sink write is being retried. */
const heartbeatSliceMs = 1000;

/** Batches in a row that may start past the restored checkpoint before the gap is taken as real. */
const MAX_SEEKS_BACK = 8;

export interface WorkerDeps {
  id: string;
  source: RecordSource;
  factory: ProcessorFactory;
  checkpoints: CheckpointStore;
  sinkFor: (pipeline: string) => Sink;
  deadLetters: DeadLetterSink;
  metrics: WorkerMetrics;
  log: WorkerLog;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  options: {
    checkpointIntervalMs: number;
    drainTimeoutMs: number;
    sinkRetryBaseDelayMs: number;
    sinkRetryMaxDelayMs: number;
    /** Sink write batches in flight per partition before consumption waits. */
    maxPendingWrites: number;
    /** Window rows per sink write (whole parts of a closed window; see ProcessorOutputs.more). */
    maxRowsPerWrite: number;
    /** How often idle partitions are checked for due checkpoints and memory pressure. */
    tickMs: number;
  };
}

export interface DrainReport {
  reason: string;
  checkpoints: CheckpointSummary[];
  seconds: number;
  /** False when the deadline passed first: what was durable is committed, the rest is replayed by the next owner. */
  complete: boolean;
  problems: string[];
}

/**
 * An aggregator worker: a consumer-group member that restores each assigned partition from
 * its latest valid checkpoint, applies records in offset order, writes closed windows before
 * it checkpoints, and commits offsets only after the checkpoint that covers them is durable.
 */
export class Worker {
  private readonly partitions = new Map<string, OwnedPartition>();
  private readonly lock = new SerialLock();
  private drainPromise: Promise<DrainReport> | undefined;
  private stopFetching = false;
  private pausedForMemory = false;
  private timer: NodeJS.Timeout | undefined;
  private assignedOnce = false;

  constructor(private readonly deps: WorkerDeps) {}

  async start(): Promise<void> {
    await this.deps.source.start({
      onAssignment: (assigned, revoked) => this.lock.run(() => this.reassign(assigned, revoked)),
      onBatch: (batch, heartbeat) => this.lock.run(() => this.handleBatch(batch, heartbeat)),
    });
    this.timer = setInterval(() => {
      void this.tick().catch((err: unknown) => this.deps.log.error({ err }, 'worker tick failed'));
    }, this.deps.options.tickMs);
    this.timer.unref();
  }

  ready(): { ready: boolean; reason?: string } {
    if (this.drainPromise) return { ready: false, reason: 'draining' };
    if (!this.assignedOnce) return { ready: false, reason: 'waiting for a partition assignment' };
    return { ready: true };
  }

  status(): unknown {
    const now = this.deps.now();
    return {
      id: this.deps.id,
      draining: this.drainPromise !== undefined,
      pausedForMemory: this.pausedForMemory,
      memory: this.deps.factory.memory(),
      partitions: [...this.partitions.values()].map((p) => {
        const next = partitionNextOffset(p);
        return {
          topic: p.tp.topic,
          partition: p.tp.partition,
          nextOffset: next?.toString() ?? null,
          lag: next === undefined ? null : Number(p.highWatermark > next ? p.highWatermark - next : 0n),
          checkpointAgeSeconds: (now - p.lastCheckpointMs) / 1000,
          /** Since the last records (or the restore): what idle advances count from. */
          silentSeconds: (now - p.lastInputMs) / 1000,
          /** An idle advance is being checkpointed: the partition is paused until it is applied. */
          idleAdvancing: p.advancing,
          pipelines: [...p.slots.entries()].map(([name, s]) => {
            const watermark = s.processor.watermarkMs();
            const due = s.processor.nextDueMs();
            return {
              name,
              ...s.processor.stats(),
              watermark: Number.isFinite(watermark) ? new Date(watermark).toISOString() : null,
              nextDue: Number.isFinite(due) ? new Date(due).toISOString() : null,
              idleAfterMs: s.processor.idleAfterMs ?? null,
            };
          }),
        };
      }),
    };
  }

  /** The drain in progress or done, if one was started. */
  pendingDrain(): Promise<DrainReport> | undefined {
    return this.drainPromise;
  }

  /** Checkpoints every owned partition now (admin API). */
  checkpointNow(): Promise<CheckpointSummary[]> {
    return this.lock.run(async () => {
      const out: CheckpointSummary[] = [];
      for (const p of this.partitions.values()) out.push(...(await this.checkpoint(p, true)));
      return out;
    });
  }

  /**
   * Checkpoint-then-drain, once: stop fetching, finish the in-flight batch, write its outputs,
   * checkpoint and commit every owned partition, leave the group. A second call returns the
   * first call's promise.
   */
  drain(reason: string, deadlineMs?: number): Promise<DrainReport> {
    this.drainPromise ??= this.runDrain(
      reason,
      deadlineMs ?? this.deps.now() + this.deps.options.drainTimeoutMs,
    );
    return this.drainPromise;
  }

  private async runDrain(reason: string, deadlineMs: number): Promise<DrainReport> {
    const t0 = this.deps.now();
    const { log, source } = this.deps;
    log.info({ reason, deadline: new Date(deadlineMs).toISOString() }, 'drain started');
    this.stopFetching = true;
    source.pause([...this.partitions.values()].map((p) => p.tp));
    const problems: string[] = [];
    const checkpoints: CheckpointSummary[] = [];
    const work = this.lock.run(async () => {
      // Each owned partition ends covered by a durable checkpoint: written now, or already current.
      for (const p of this.partitions.values()) {
        await this.checkpoint(p, false);
        checkpoints.push(...durableCheckpoints(p));
      }
    });
    const budget = Math.max(0, deadlineMs - this.deps.now());
    const finished = await Promise.race([work.then(() => true), this.deps.sleep(budget).then(() => false)]);
    if (!finished) {
      const pending = [...this.partitions.keys()].filter((k) => !checkpoints.some((c) => tpKey(c) === k));
      problems.push(
        `deadline passed before these partitions were checkpointed (the next owner replays them): ${pending.join(', ')}`,
      );
    }
    clearInterval(this.timer);
    await source
      .stop()
      .catch((err: unknown) => problems.push(`leaving the consumer group failed: ${(err as Error).message}`));
    for (const p of this.partitions.values()) for (const s of p.slots.values()) s.processor.release();
    this.partitions.clear();
    const report: DrainReport = {
      reason,
      checkpoints,
      seconds: (this.deps.now() - t0) / 1000,
      complete: finished,
      problems,
    };
    if (problems.length > 0) log.warn({ ...report }, 'drain finished with problems');
    else log.info({ ...report }, 'drain finished');
    return report;
  }

  private async reassign(assigned: TopicPartition[], revoked: TopicPartition[]): Promise<void> {
    this.assignedOnce = true;
    for (const tp of revoked) {
      const p = this.partitions.get(tpKey(tp));
      if (!p) continue;
      // A checkpoint finishing in the background lands before the partition goes (its commit stays ours).
      await p.checkpointing;
      // The next owner restores from the last checkpoint and replays; idempotent sinks absorb the overlap.
      for (const s of p.slots.values()) s.processor.release();
      this.partitions.delete(tpKey(tp));
    }
    for (const tp of assigned) {
      if (this.stopFetching || this.partitions.has(tpKey(tp))) continue;
      const owned = await restorePartition(tp, this.deps);
      this.partitions.set(tpKey(tp), owned);
      // A restore that re-applied a checkpointed idle advance has outputs to write, and a silent
      // partition brings no batch that would take them.
      await this.flushOutputs(owned, owned.heartbeat, false);
    }
  }

  private async handleBatch(batch: SourceBatch, heartbeat: () => Promise<void>): Promise<BatchOutcome> {
    const first = BigInt(batch.records[0]!.offset);
    if (this.stopFetching) return { kind: 'seek', offset: first.toString() };
    const tp = { topic: batch.topic, partition: batch.partition };
    let owned = this.partitions.get(tpKey(tp));
    if (!owned) {
      owned = await restorePartition(tp, this.deps);
      this.partitions.set(tpKey(tp), owned);
    }
    // Its idle advance is being checkpointed: these records come after it (fetched again once it is applied).
    if (owned.advancing) return { kind: 'seek', offset: first.toString() };
    owned.heartbeat = heartbeat;
    const start = partitionNextOffset(owned);
    // The fetch position is past what the state reflects (the group's committed offset is ahead of the checkpoint
    // restored, or a batch fetched before an earlier seek arrives now): go back. Batches fetched ahead can still
    // arrive after a seek, so keep going back; only after several batches in a row start past the seek target is the
    // gap taken as real (offsets that do not exist: compaction, transaction markers), and said so.
    if (start !== undefined && first > start) {
      if (owned.seekedTo !== start) {
        owned.seekedTo = start;
        owned.seekAttempts = 0;
      }
      if (owned.seekAttempts < MAX_SEEKS_BACK) {
        owned.seekAttempts++;
        this.deps.log.info(
          { ...tp, from: first.toString(), to: start.toString(), attempt: owned.seekAttempts },
          'seeking back to the restored checkpoint',
        );
        return { kind: 'seek', offset: start.toString() };
      }
      this.deps.log.warn(
        { ...tp, from: first.toString(), expected: start.toString(), attempts: owned.seekAttempts },
        'offsets between the checkpoint and the fetched batch do not exist; continuing from the batch',
      );
    }
    owned.seekAttempts = 0;
    // The backlog present when the restored partition is first fetched is its replay.
    if (owned.replayUntil === undefined) owned.replayUntil = BigInt(batch.highWatermark);
    const replayUntil = owned.replayUntil;
    const replayedBy = new Map<string, number>();
    const t0 = performance.now();
    const deadLetters: DeadLetter[] = [];
    let bytes = 0;
    const appliedBy = new Map<string, number>();
    // Offsets as numbers on the per-record path (two BigInts per record and pipeline were measurable garbage):
    // exact below 2^53, which the batch's high watermark bounds (9e15 records in one partition: never in practice).
    if (BigInt(batch.highWatermark) > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(
        `${tp.topic}/${tp.partition}: offsets beyond 2^53 (high watermark ${batch.highWatermark}) are not supported`,
      );
    }
    const slots = [...owned.slots];
    const nextOf = slots.map(([, slot]) => (slot.nextOffset === undefined ? -1 : Number(slot.nextOffset)));
    const applied = slots.map(() => 0);
    const replayed = slots.map(() => 0);
    const replayBelow = replayUntil === null ? -1 : Number(replayUntil);
    const records = batch.records;
    for (let r = 0; r < records.length; r++) bytes += records[r]!.sizeBytes;
    const lastOffset = Number(records[records.length - 1]!.offset);
    // Each pipeline applies the records from its next offset on (a batch is in offset order; a
    // pipeline restored from an older checkpoint than another skips less).
    for (let k = 0; k < slots.length; k++) {
      let from = 0;
      while (from < records.length && Number(records[from]!.offset) < nextOf[k]!) from++;
      if (from === records.length) continue;
      applied[k] = slots[k]![1].processor.applyBatch(records, from, deadLetters);
      nextOf[k] = lastOffset + 1;
      for (let r = from; r < records.length && Number(records[r]!.offset) < replayBelow; r++) replayed[k]!++;
    }
    for (let k = 0; k < slots.length; k++) {
      const [pipeline, slot] = slots[k]!;
      if (nextOf[k]! >= 0) slot.nextOffset = BigInt(nextOf[k]!);
      if (applied[k]! > 0) appliedBy.set(pipeline, applied[k]!);
      if (replayed[k]! > 0) replayedBy.set(pipeline, replayed[k]!);
    }
    if (replayUntil !== null) noteReplay(owned, replayedBy, this.deps);
    owned.lastInputMs = this.deps.now();
    for (const [, slot] of slots) slot.inputWatermarkMs = slot.processor.watermarkMs();
    const { metrics } = this.deps;
    metrics.consumed(tp.topic, tp.partition, batch.records.length, bytes);
    for (const [pipeline, n] of appliedBy) metrics.aggregated(pipeline, n);
    metrics.busy('aggregator', (performance.now() - t0) / 1000);
    await this.flushOutputs(owned, heartbeat, false);
    if (deadLetters.length > 0) {
      await this.deps.deadLetters.send(deadLetters);
      for (const d of deadLetters) metrics.deadLetter(d.pipeline, d.reason);
    }
    owned.highWatermark = BigInt(batch.highWatermark);
    const next = partitionNextOffset(owned) ?? BigInt(batch.records[batch.records.length - 1]!.offset) + 1n;
    metrics.lag(tp.topic, tp.partition, Number(owned.highWatermark > next ? owned.highWatermark - next : 0n));
    this.applyBackpressure();
    if (this.deps.now() - owned.lastCheckpointMs >= this.deps.options.checkpointIntervalMs)
      await this.checkpointInBackground(owned);
    await heartbeat();
    return { kind: 'consumed', nextOffset: next.toString() };
  }

  /**
   * Takes every closed window and transition now (so outputs keep their order) and writes them
   * in the background, at most `maxPendingWrites` batches per partition in flight: consumption
   * overlaps sink latency, and a sink that is down stops the worker once the queue is full.
   * A closed window larger than `maxRowsPerWrite` rows is handed over in parts as the queue makes
   * room (heartbeating meanwhile), so at most `maxPendingWrites` + 1 parts exist as result
   * objects; the rows not yet handed over stay in the processor's compact, memory-accounted store.
   * `waitAll` (before a checkpoint) waits until everything taken so far is written.
   */
  private async flushOutputs(
    owned: OwnedPartition,
    heartbeat: () => Promise<void>,
    waitAll: boolean,
  ): Promise<void> {
    const { maxPendingWrites, maxRowsPerWrite } = this.deps.options;
    for (const [pipeline, slot] of owned.slots) {
      for (;;) {
        const { results, transitions, more } = slot.processor.takeOutputs(maxRowsPerWrite);
        if (results.length > 0 || transitions.length > 0)
          owned.pendingWrites.push(this.writeUntilDone(pipeline, owned, results, transitions, heartbeat));
        if (!more) break;
        await waitForWrites(owned, maxPendingWrites, heartbeat);
      }
    }
    await waitForWrites(owned, waitAll ? 0 : maxPendingWrites);
  }

  /** One batch to its sink, retried with backoff until it is stored (never dropped). */
  private async writeUntilDone(
    pipeline: string,
    owned: OwnedPartition,
    results: ProcessorOutputs['results'],
    transitions: ProcessorOutputs['transitions'],
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const { metrics, log, options } = this.deps;
    const sink = this.deps.sinkFor(pipeline);
    const origin = { pipeline, ...owned.tp };
    for (let attempt = 1; ; attempt += 1) {
      const t0 = performance.now();
      try {
        await sink.write(results, transitions, origin);
        metrics.sinkWrite(
          sink.name,
          results.length + transitions.length,
          (performance.now() - t0) / 1000,
          true,
        );
        break;
      } catch (err) {
        metrics.sinkWrite(sink.name, 0, (performance.now() - t0) / 1000, false);
        metrics.paused('sink', 1);
        log.warn(
          { pipeline, sink: sink.name, attempt, err: (err as Error).message },
          'sink write failed; retrying (not advancing)',
        );
        // Heartbeat through the backoff: an outage longer than the session timeout must not
        // cost the group membership (and a rebalance with a replay) on top.
        let wait = Math.min(
          options.sinkRetryMaxDelayMs,
          options.sinkRetryBaseDelayMs * 2 ** Math.min(attempt - 1, 16),
        );
        for (; wait > 0; wait -= heartbeatSliceMs) {
          await heartbeat().catch(() => undefined);
          await this.deps.sleep(Math.min(wait, heartbeatSliceMs));
        }
      }
    }
    metrics.paused('sink', 0);
    metrics.windowsEmitted(pipeline, results.length);
    metrics.transitionsEmitted(pipeline, transitions.length);
  }

  private async checkpoint(
    owned: OwnedPartition,
    force: boolean,
    advances?: ReadonlyMap<string, number>,
  ): Promise<CheckpointSummary[]> {
    // Storage that is slow or silent (retried with timeouts) holds the lock meanwhile: keep
    // heartbeating so the group does not evict a worker that is alive and will recover.
    const beat = setInterval(() => void owned.heartbeat().catch(() => undefined), heartbeatSliceMs);
    try {
      // A periodic checkpoint still finishing goes first: checkpoints and commits stay in offset order.
      await owned.checkpointing;
      // A checkpoint must never cover results that are not yet in the sink.
      await this.flushOutputs(owned, owned.heartbeat, true);
      return await checkpointPartition(owned, force, this.deps, advances);
    } finally {
      clearInterval(beat);
    }
  }

  /**
   * A periodic checkpoint that does not stop consumption (as Flink's asynchronous snapshots): the outputs taken so
   * far join the sink queue, the state is serialized now with the offset it reflects, and waiting for those writes,
   * the upload and the commit happen in the background while batches keep flowing. At most one per partition is in
   * flight; a checkpoint that must be durable when it returns (drain, admin) waits for it first.
   * With `advance`, an idle advance's (see {@link advanceIdle}): every pipeline is captured with its advance in the
   * manifest, the partition's records wait (it is paused) until the stored advances are applied and their outputs
   * taken.
   */
  private async checkpointInBackground(owned: OwnedPartition, advance?: IdleAdvance): Promise<void> {
    if (owned.checkpointing !== undefined) return;
    await this.flushOutputs(owned, owned.heartbeat, false);
    const writes = owned.pendingWrites.slice();
    const now = this.deps.now();
    const captured = captureSnapshots(owned, advance !== undefined, now, this.deps.factory, advance?.due);
    owned.lastCheckpointMs = now;
    if (captured.length === 0) return;
    const { log, source } = this.deps;
    if (advance) {
      owned.lastIdleAdvanceMs = now;
      owned.advancing = true;
      source.pause([owned.tp]);
    }
    owned.checkpointing = (async () => {
      try {
        // A checkpoint must never cover results that are not yet in the sink.
        await Promise.all(writes);
        const written = await storeSnapshots(owned, captured, this.deps);
        if (advance) await this.applyIdleAdvance(owned, advance, written);
      } catch (err) {
        log.warn(
          { ...owned.tp, err: (err as Error).message },
          advance ? 'idle advance failed; tried again later' : 'background checkpoint failed',
        );
      } finally {
        for (const c of captured) c.release();
        owned.checkpointing = undefined;
        if (advance) {
          owned.advancing = false;
          if (!this.stopFetching && !this.pausedForMemory) source.resume([owned.tp]);
        }
      }
    })();
  }

  /** Resolves when no periodic checkpoint is finishing in the background. */
  async checkpointsSettled(): Promise<void> {
    for (;;) {
      const inFlight = [...this.partitions.values()]
        .map((p) => p.checkpointing)
        .filter((c) => c !== undefined);
      if (inFlight.length === 0) return;
      await Promise.all(inFlight);
    }
  }

  /**
   * Moves the watermark of a silent partition on, for the pipelines that declare `idleAfterMs`
   * (see {@link idleAdvanceTarget}), once the broker confirms nothing is left to consume (a
   * backlog held up by a slow sink or a rebalance is not silence). The advance is an input like a
   * record, so it is made durable first: the state is captured with the advance in its manifest,
   * stored, then the advance is applied and its outputs written. A worker that dies in between
   * leaves a checkpoint whose restore applies the same advance at the same point: the same windows
   * close with the same rows, the same timeouts fire, and a record arriving later is late in both
   * runs. The upload happens in the background, as a periodic checkpoint's: the other partitions'
   * batches go on meanwhile; this partition's wait (paused) until the advance is applied.
   */
  private async advanceIdle(p: OwnedPartition, now: number): Promise<void> {
    if (p.checkpointing !== undefined) return;
    const due = new Map<string, number>();
    for (const [pipeline, slot] of p.slots) {
      const to = idleAdvanceTarget(p, slot, now);
      if (to !== undefined) due.set(pipeline, to);
    }
    if (due.size === 0) return;
    const next = partitionNextOffset(p);
    if (next === undefined) return;
    const { log, source } = this.deps;
    let end: bigint | undefined;
    try {
      const [e] = await source.endOffsets([p.tp]);
      end = e === undefined ? undefined : BigInt(e.offset);
    } catch (err) {
      log.warn({ ...p.tp, err: (err as Error).message }, 'end offsets unavailable; idle advance postponed');
      return;
    }
    if (end === undefined || end > next) return;
    await this.checkpointInBackground(p, { due, silentSeconds: (now - p.lastInputMs) / 1000, next });
  }

  /**
   * Applies the advances of `advance` whose checkpoint was stored (the others are tried again
   * later), then takes their outputs.
   */
  private async applyIdleAdvance(
    p: OwnedPartition,
    advance: IdleAdvance,
    written: readonly CheckpointSummary[],
  ): Promise<void> {
    const { log, metrics } = this.deps;
    for (const [pipeline, to] of advance.due) {
      // Not durable: not applied (tried again once idleAfterMs has passed).
      if (!written.some((w) => w.pipeline === pipeline)) continue;
      const slot = p.slots.get(pipeline)!;
      const from = slot.processor.watermarkMs();
      slot.processor.advanceWatermark(to);
      metrics.idleAdvanced(pipeline, (to - from) / 1000);
      log.info(
        {
          pipeline,
          ...p.tp,
          silentSeconds: advance.silentSeconds,
          fromWatermark: new Date(from).toISOString(),
          toWatermark: new Date(to).toISOString(),
          nextOffset: advance.next.toString(),
        },
        'partition silent: watermark advanced without records (checkpointed first)',
      );
    }
    // Its outputs are taken before any later record's.
    await this.flushOutputs(p, p.heartbeat, false);
  }

  private applyBackpressure(): void {
    const mem = this.deps.factory.memory();
    this.deps.metrics.memory(mem.usedBytes, mem.limitBytes, mem.liveSeries, mem.byPipeline);
    const owned = [...this.partitions.values()].map((p) => p.tp);
    if (mem.pressure === 'pause' && !this.pausedForMemory) {
      this.pausedForMemory = true;
      this.deps.source.pause(owned);
      this.deps.metrics.paused('memory', 1);
      this.deps.log.warn(
        { usedBytes: mem.usedBytes, limitBytes: mem.limitBytes },
        'memory above high-water mark: fetching paused',
      );
    } else if (mem.pressure === 'ok' && this.pausedForMemory && !this.stopFetching) {
      this.pausedForMemory = false;
      // A partition whose idle advance is being checkpointed stays paused until it is applied.
      this.deps.source.resume([...this.partitions.values()].filter((p) => !p.advancing).map((p) => p.tp));
      this.deps.metrics.paused('memory', 0);
      this.deps.log.info({ usedBytes: mem.usedBytes }, 'memory below low-water mark: fetching resumed');
    }
  }

  /**
   * The periodic duties (the timer runs them every `tickMs`; tests call this): backpressure,
   * idle partitions' watermark advances, checkpoint ages and due checkpoints.
   */
  tick(): Promise<void> {
    return this.lock.run(() => this.runTick());
  }

  private async runTick(): Promise<void> {
    if (this.stopFetching) return;
    this.applyBackpressure();
    const now = this.deps.now();
    for (const p of this.partitions.values()) {
      if (!this.pausedForMemory) await this.advanceIdle(p, now);
      this.deps.metrics.checkpointAge(
        p.slots.keys().next().value ?? '',
        p.tp.topic,
        p.tp.partition,
        (now - p.lastCheckpointMs) / 1000,
      );
      if (now - p.lastCheckpointMs >= this.deps.options.checkpointIntervalMs)
        await this.checkpointInBackground(p);
    }
  }
}

/** An idle advance decided for a partition: per pipeline the watermark to move to, and what its log line says. */
interface IdleAdvance {
  due: ReadonlyMap<string, number>;
  silentSeconds: number;
  /** The partition's next offset (it is caught up to here). */
  next: bigint;
}

/**
 * The watermark an idle pipeline moves to at `now` (see the pipeline's `idleAfterMs`): event time
 * kept pace with the wall clock since the partition's last records, less `idleAfterMs`. Undefined
 * when the pipeline does not declare it, the partition is not silent long enough (or advanced less
 * than `idleAfterMs` ago), or nothing would close or fire.
 */
function idleAdvanceTarget(p: OwnedPartition, slot: PipelineSlot, now: number): number | undefined {
  const after = slot.processor.idleAfterMs;
  const silentMs = now - p.lastInputMs;
  if (after === undefined || silentMs < after || now - p.lastIdleAdvanceMs < after) return undefined;
  if (!Number.isFinite(slot.inputWatermarkMs)) return undefined;
  const to = slot.inputWatermarkMs + silentMs - after;
  if (to <= slot.processor.watermarkMs() || to < slot.processor.nextDueMs()) return undefined;
  return to;
}

/** Waits for the oldest queued sink writes until at most `limit` are queued, heartbeating between them when given. */
async function waitForWrites(
  owned: OwnedPartition,
  limit: number,
  heartbeat?: () => Promise<void>,
): Promise<void> {
  while (owned.pendingWrites.length > limit) {
    await owned.pendingWrites.shift();
    await heartbeat?.().catch(() => undefined);
  }
}
