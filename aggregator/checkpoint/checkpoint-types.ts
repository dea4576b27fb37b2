/** The unit of ownership, checkpoint and recovery. */
export interface PartitionRef {
  pipeline: string;
  topic: string;
  partition: number;
}

/**
 * What a checkpoint says about itself. Written last (after the data object), so a manifest
 * that exists names data that is complete; the checksum proves the data is the same bytes.
 */
export interface CheckpointManifest {
  formatVersion: 1;
  id: string;
  pipeline: string;
  topic: string;
  partition: number;
  /** The next Kafka offset to consume: the state reflects every record before it. */
  nextOffset: string;
  createdAtMs: number;
  /** Worker that wrote it (instance id or host:pid). */
  writer: string;
  dataKey: string;
  /** Size of the stored (compressed) data object. */
  storedBytes: number;
  /** Size of the uncompressed state snapshot. */
  stateBytes: number;
  /** SHA-256 of the stored data object, hex. */
  sha256: string;
  compression: 'snappy' | 'gzip' | 'none';
  /** Stored sizes of the consecutive compressed blocks (absent: one gzip stream), decompressed in parallel. */
  chunks?: number[];
  /**
   * An idle partition's watermark advance (epoch ms), applied right after restoring this state and
   * before any record at `nextOffset`. The worker checkpoints the advance before it applies it, so
   * the windows and timeouts it closes are the same in any replay (see the pipeline's `idleAfterMs`).
   */
  advanceWatermarkToMs?: number;
  /** Free-form facts for `checkpoint inspect` (series count, open windows...). */
  stats: Record<string, number>;
}

export interface LoadedCheckpoint {
  manifest: CheckpointManifest;
  /**
   * The state snapshot as consecutive parts (its decompressed blocks); `joinBytes` makes one
   * buffer of them. A restore may take them over (ProcessorFactory.create drops each once read).
   */
  snapshot: Uint8Array[];
}

/** Why a checkpoint was passed over while looking for the latest valid one. */
export interface SkippedCheckpoint {
  id: string;
  reason: 'missing_data' | 'checksum_mismatch' | 'bad_manifest' | 'decompress_failed';
  detail: string;
}
