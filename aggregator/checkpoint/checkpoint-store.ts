import type {
  CheckpointManifest,
  LoadedCheckpoint,
  PartitionRef,
  SkippedCheckpoint,
} from './checkpoint-types.js';

/** What a checkpoint may carry beside the state and its offset. */
export interface CheckpointExtra {
  /** See {@link CheckpointManifest.advanceWatermarkToMs}. */
  advanceWatermarkToMs?: number;
}

/**
 * Durable checkpoints of one partition's state plus the offsets it reflects.
 * Implemented once over a {@link BlobStore} (S3 or a local directory) by BlobCheckpointStore.
 */
export interface CheckpointStore {
  /** Where checkpoints live, for logs. */
  readonly location: string;
  /**
   * Writes a checkpoint so that a reader sees all of it or none: data object first, manifest last.
   * Resolves only when both are durable; the caller may then commit `nextOffset` to Kafka.
   */
  write(
    ref: PartitionRef,
    snapshot: Uint8Array,
    nextOffset: string,
    stats?: Record<string, number>,
    extra?: CheckpointExtra,
  ): Promise<CheckpointManifest>;
  /**
   * The newest checkpoint whose data is present and matches its checksum. Broken ones are
   * skipped (and reported) in favour of the previous.
   */
  latestValid(
    ref: PartitionRef,
  ): Promise<{ checkpoint: LoadedCheckpoint | undefined; skipped: SkippedCheckpoint[] }>;
  /** Manifests, newest first; of one partition or of all. */
  list(ref?: Partial<PartitionRef>): Promise<CheckpointManifest[]>;
  /** Loads and verifies one checkpoint by id. */
  load(ref: PartitionRef, id: string): Promise<LoadedCheckpoint | SkippedCheckpoint>;
  /**
   * Keeps the newest `keep` valid checkpoints of a partition; deletes older ones and orphaned
   * data objects (a crash between data and manifest) older than the grace period.
   */
  applyRetention(ref: PartitionRef): Promise<{ deletedKeys: string[] }>;
}
