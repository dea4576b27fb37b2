import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { type OwnedPartition, type PipelineSlot, partitionNextOffset } from './owned-partition.js';
import type { ProcessorFactory } from './partition-processor.js';
import type { RecordSource, TopicPartition } from './record-source.js';
import type { WorkerLog } from './worker-log.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface CheckpointSummary extends TopicPartition {
  pipeline: string;
  id: string;
  nextOffset: string;
  storedBytes: number;
}

interface CheckpointDeps {
  id: string;
  factory: ProcessorFactory;
  checkpoints: CheckpointStore;
  source: RecordSource;
  metrics: WorkerMetrics;
  log: WorkerLog;
  now: () => number;
}

/** Loads each pipeline's latest valid checkpoint of a newly assigned partition (or starts fresh). */
export async function restorePartition(tp: TopicPartition, deps: CheckpointDeps): Promise<OwnedPartition> {
  const slots = new Map<string, PipelineSlot>();
  for (const pipeline of deps.factory.pipelinesFor(tp.topic)) {
    const ref = { pipeline, ...tp };
    const t0 = deps.now();
    const { checkpoint, skipped } = await deps.checkpoints.latestValid(ref);
    for (const s of skipped) {
      deps.log.warn(
        { ...ref, checkpoint: s.id, reason: s.reason, detail: s.detail },
        'skipping an invalid checkpoint; trying the previous one',
      );
    }
    const processor = deps.factory.create(ref, checkpoint?.snapshot);
    const nextOffset = checkpoint ? BigInt(checkpoint.manifest.nextOffset) : undefined;
    // An idle advance checkpointed before it was applied: apply it here, as the previous owner did
    // right after that checkpoint (its outputs are rewritten identically by the next flush).
    const advanceTo = checkpoint?.manifest.advanceWatermarkToMs;
    if (advanceTo !== undefined) processor.advanceWatermark(advanceTo);
    const seconds = (deps.now() - t0) / 1000;
    deps.metrics.restored(pipeline, checkpoint?.manifest.storedBytes ?? 0, seconds);
    deps.log.info(
      {
        ...ref,
        checkpoint: checkpoint?.manifest.id ?? null,
        nextOffset: nextOffset?.toString() ?? 'earliest',
        stateBytes: checkpoint?.manifest.stateBytes ?? 0,
        ...(advanceTo !== undefined ? { advancedWatermarkTo: new Date(advanceTo).toISOString() } : {}),
        seconds,
      },
      checkpoint
        ? 'restored partition from checkpoint'
        : 'no checkpoint: starting partition from the earliest offset',
    );
    slots.set(pipeline, {
      processor,
      nextOffset,
      checkpointedOffset: nextOffset,
      lastCheckpoint: checkpoint?.manifest,
      inputWatermarkMs: processor.watermarkMs(),
    });
  }
  return {
    tp,
    slots,
    highWatermark: 0n,
    lastCheckpointMs: deps.now(),
    lastInputMs: deps.now(),
    lastIdleAdvanceMs: Number.NEGATIVE_INFINITY,
    seekedTo: undefined,
    seekAttempts: 0,
    replayed: 0,
    replayUntil: undefined,
    replayStartedMs: deps.now(),
    replayLoggedMs: deps.now(),
    replayLoggedRecords: 0,
    heartbeat: async () => {},
    pendingWrites: [],
    checkpointing: undefined,
    advancing: false,
  };
}

/** Replay progress is logged every this many records, or this often, whichever comes first. */
export const replayLogEveryRecords = 100_000;
export const replayLogEveryMs = 5_000;

/**
 * Counts records a pipeline applied below the partition's replay target (the high watermark
 * when the restored partition was first fetched) and logs progress with the remaining lag,
 * then once when the replay is done. `replayedBy`: records below the target each pipeline applied in one batch.
 */
export function noteReplay(
  owned: OwnedPartition,
  replayedBy: Map<string, number>,
  deps: Pick<CheckpointDeps, 'metrics' | 'log' | 'now'>,
): void {
  const until = owned.replayUntil;
  if (until === null || until === undefined) return;
  let records = 0;
  for (const [pipeline, replayed] of replayedBy) {
    deps.metrics.replayed(pipeline, replayed);
    records = Math.max(records, replayed);
  }
  owned.replayed += records;
  const next = partitionNextOffset(owned);
  const now = deps.now();
  const fields = {
    ...owned.tp,
    replayedRecords: owned.replayed,
    seconds: (now - owned.replayStartedMs) / 1000,
  };
  if (next !== undefined && next >= until) {
    owned.replayUntil = null;
    if (owned.replayed > 0) deps.log.info({ ...fields, nextOffset: next.toString() }, 'replay finished');
    return;
  }
  if (
    owned.replayed - owned.replayLoggedRecords >= replayLogEveryRecords ||
    now - owned.replayLoggedMs >= replayLogEveryMs
  ) {
    owned.replayLoggedMs = now;
    owned.replayLoggedRecords = owned.replayed;
    deps.log.info(
      { ...fields, lag: next === undefined ? null : Number(until - next), until: until.toString() },
      'replaying',
    );
  }
}

/** One pipeline's state serialized at a point in the partition, with the offset it reflects. */
export interface CapturedSnapshot {
  pipeline: string;
  slot: PipelineSlot;
  snapshot: Uint8Array;
  nextOffset: bigint;
  stats: { liveSeries: number; openWindows: number; stateBytes: number };
  capturedAtMs: number;
  /** An idle advance stored in the manifest (applied by the caller once the checkpoint is durable). */
  advanceWatermarkToMs: number | undefined;
  /** Returns the snapshot's bytes to the memory budget (they were charged when captured); idempotent. */
  release: () => void;
}

/**
 * Serializes each pipeline of a partition whose state moved since its last checkpoint (all of them when forced),
 * with the offset it reflects. Synchronous, so state and offset cannot drift apart; the bytes are a copy, so the
 * processors may go on while they are stored. The copy is charged to the memory budget until it is stored (or
 * released): a large state uploading in the background must not let the worker outgrow its budget.
 */
export function captureSnapshots(
  owned: OwnedPartition,
  force: boolean,
  now: number,
  factory: Pick<ProcessorFactory, 'holdBytes'>,
  advances?: ReadonlyMap<string, number>,
): CapturedSnapshot[] {
  const out: CapturedSnapshot[] = [];
  for (const [pipeline, slot] of owned.slots) {
    if (slot.nextOffset === undefined) continue;
    if (!force && slot.checkpointedOffset === slot.nextOffset) continue;
    const s = slot.processor.stats();
    const snapshot = slot.processor.snapshot();
    out.push({
      pipeline,
      slot,
      snapshot,
      nextOffset: slot.nextOffset,
      stats: { liveSeries: s.liveSeries, openWindows: s.openWindows, stateBytes: s.stateBytes },
      capturedAtMs: now,
      advanceWatermarkToMs: advances?.get(pipeline),
      release: factory.holdBytes(snapshot.byteLength),
    });
  }
  return out;
}

/**
 * Stores captured snapshots, then commits the offset every pipeline's durable state covers. The outputs the
 * snapshots reflect must already be written. A failed write leaves the previous checkpoint and commit in place.
 */
export async function storeSnapshots(
  owned: OwnedPartition,
  captured: readonly CapturedSnapshot[],
  deps: CheckpointDeps,
): Promise<CheckpointSummary[]> {
  const written: CheckpointSummary[] = [];
  for (const c of captured) {
    const ref = { pipeline: c.pipeline, ...owned.tp };
    try {
      const extra =
        c.advanceWatermarkToMs === undefined ? {} : { advanceWatermarkToMs: c.advanceWatermarkToMs };
      const manifest = await deps.checkpoints.write(ref, c.snapshot, c.nextOffset.toString(), c.stats, extra);
      // Never move back: a later checkpoint of this slot may have been stored meanwhile.
      if (c.slot.checkpointedOffset === undefined || c.slot.checkpointedOffset < c.nextOffset) {
        c.slot.checkpointedOffset = c.nextOffset;
        c.slot.lastCheckpoint = manifest;
      }
      deps.metrics.checkpointWritten(c.pipeline, (deps.now() - c.capturedAtMs) / 1000, manifest.storedBytes);
      written.push({
        ...ref,
        id: manifest.id,
        nextOffset: manifest.nextOffset,
        storedBytes: manifest.storedBytes,
      });
    } catch (err) {
      deps.log.warn(
        { ...ref, err: (err as Error).message },
        'checkpoint failed; offsets stay at the last durable checkpoint',
      );
    } finally {
      c.release();
    }
  }
  const covered = committableOffset(owned);
  if (covered !== undefined && written.length > 0) {
    try {
      await deps.source.commit([{ ...owned.tp, offset: covered.toString() }]);
    } catch (err) {
      deps.log.warn(
        { ...owned.tp, err: (err as Error).message },
        'offset commit failed; the checkpoint stays valid',
      );
    }
    for (const pipeline of owned.slots.keys()) {
      deps.checkpoints
        .applyRetention({ pipeline, ...owned.tp })
        .catch((err: unknown) =>
          deps.log.warn(
            { pipeline, ...owned.tp, err: (err as Error).message },
            'checkpoint retention failed',
          ),
        );
    }
  }
  return written;
}

/**
 * Checkpoints each pipeline of a partition whose state moved since its last checkpoint (all of
 * them when forced), then commits the offset every pipeline's durable state covers. Outputs
 * must already be written. A failed write leaves the previous checkpoint and commit in place.
 * `advances`: per pipeline, an idle watermark advance written in its manifest (see
 * CheckpointManifest.advanceWatermarkToMs).
 */
export async function checkpointPartition(
  owned: OwnedPartition,
  force: boolean,
  deps: CheckpointDeps,
  advances?: ReadonlyMap<string, number>,
): Promise<CheckpointSummary[]> {
  const captured = captureSnapshots(owned, force, deps.now(), deps.factory, advances);
  const written = await storeSnapshots(owned, captured, deps);
  owned.lastCheckpointMs = deps.now();
  return written;
}

/** The newest durable checkpoint of each pipeline of a partition (written now or earlier). */
export function durableCheckpoints(owned: OwnedPartition): CheckpointSummary[] {
  const out: CheckpointSummary[] = [];
  for (const [pipeline, slot] of owned.slots) {
    const m = slot.lastCheckpoint;
    if (m)
      out.push({ pipeline, ...owned.tp, id: m.id, nextOffset: m.nextOffset, storedBytes: m.storedBytes });
  }
  return out;
}

/** The offset every pipeline's durable checkpoint covers (the least of them). */
function committableOffset(owned: OwnedPartition): bigint | undefined {
  let min: bigint | undefined;
  for (const s of owned.slots.values()) {
    if (s.checkpointedOffset === undefined) return undefined;
    if (min === undefined || s.checkpointedOffset < min) min = s.checkpointedOffset;
  }
  return min;
}
