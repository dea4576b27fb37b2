import type { CheckpointManifest } from '../checkpoint/checkpoint-types.js';
import type { PartitionProcessor } from './partition-processor.js';
import type { TopicPartition } from './record-source.js';

/** One pipeline's processor on an owned partition, with the offsets its state reflects. */
export interface PipelineSlot {
  processor: PartitionProcessor;
  /** Next offset this processor has not applied yet (undefined: fresh, take whatever comes first). */
  nextOffset: bigint | undefined;
  /** Offset covered by the newest durable checkpoint. */
  checkpointedOffset: bigint | undefined;
  lastCheckpoint: CheckpointManifest | undefined;
  /** The processor's watermark after the last records applied (or the restore): where idle time counts from. */
  inputWatermarkMs: number;
}

/** A Kafka partition this worker owns, and its pipelines' state. */
export interface OwnedPartition {
  tp: TopicPartition;
  slots: Map<string, PipelineSlot>;
  highWatermark: bigint;
  lastCheckpointMs: number;
  /** Wall-clock ms of the last batch applied (or of the restore): the partition is silent since. */
  lastInputMs: number;
  /** Wall-clock ms of the last idle watermark advance (at most one per `idleAfterMs`). */
  lastIdleAdvanceMs: number;
  /** Where the source was last asked to seek, so a gap in offsets does not loop forever. */
  seekedTo: bigint | undefined;
  /** Consecutive batches that started past {@link seekedTo} after seeking back to it. */
  seekAttempts: number;
  /** Records applied since the restore, for replay progress. */
  replayed: number;
  /**
   * The high watermark when the restored partition was first fetched: records below it are a
   * replay (backlog since the checkpoint). Undefined until the first batch; null once caught up.
   */
  replayUntil: bigint | undefined | null;
  /** When the restore finished and when replay progress was last logged (ms), and at how many records. */
  replayStartedMs: number;
  replayLoggedMs: number;
  replayLoggedRecords: number;
  /** The consumer-group heartbeat of the latest batch, to keep the membership through slow I/O. */
  heartbeat: () => Promise<void>;
  /** Sink writes in flight, oldest first; all must finish before a checkpoint. */
  pendingWrites: Promise<void>[];
  /**
   * A checkpoint finishing in the background (its writes, upload and commit), if any: a periodic
   * one, or an idle advance's (which then applies the advance and takes its outputs).
   */
  checkpointing: Promise<void> | undefined;
  /**
   * An idle advance is captured and not yet applied: the partition's records wait (it is paused,
   * and a batch fetched before the pause is sent back) so that none lands between the two.
   */
  advancing: boolean;
}

/** The offset the partition must be read from: the least advanced pipeline's. */
export function partitionNextOffset(p: OwnedPartition): bigint | undefined {
  let min: bigint | undefined;
  for (const s of p.slots.values()) {
    if (s.nextOffset === undefined) return undefined;
    if (min === undefined || s.nextOffset < min) min = s.nextOffset;
  }
  return min;
}

export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}[${tp.partition}]`;
}
