/** One consumed record, as the worker sees it (no client library types). */
export interface SourceRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Size of the value in bytes (0 for null). */
  sizeBytes: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface SourceBatch extends TopicPartition {
  records: SourceRecord[];
  /** The partition's high watermark when the batch was fetched: lag = highWatermark − next offset. */
  highWatermark: string;
}

/** What the worker did with a batch. */
export type BatchOutcome =
  /** Handled every record up to (not including) `nextOffset`. */
  | { kind: 'consumed'; nextOffset: string }
  /** The source must restart this partition at `offset` (e.g. after restoring a checkpoint). */
  | { kind: 'seek'; offset: string };

export interface SourceHandlers {
  /** Called with the partitions gained and lost at a rebalance, before their batches flow. */
  onAssignment(assigned: TopicPartition[], revoked: TopicPartition[]): Promise<void>;
  /** Called for each fetched batch of one partition, in offset order; never concurrently for one partition. */
  onBatch(batch: SourceBatch, heartbeat: () => Promise<void>): Promise<BatchOutcome>;
}

/**
 * A consumer-group member (Kafka via kafkajs in infra/kafka). Offsets are never committed
 * automatically: the worker commits only what a durable checkpoint covers.
 */
export interface RecordSource {
  /** Joins the group and starts delivering batches to the handlers. */
  start(handlers: SourceHandlers): Promise<void>;
  /** Stops fetching from these partitions (backpressure) until resumed. */
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  /**
   * The partitions' end offsets as the broker has them now (the offset the next record produced
   * will get), less the offsets at the end the source knows hold no data (transaction markers):
   * a partition whose next offset reaches its end is caught up.
   */
  endOffsets(partitions: TopicPartition[]): Promise<(TopicPartition & { offset: string })[]>;
  /** Commits next offsets to the group. */
  commit(offsets: (TopicPartition & { offset: string })[]): Promise<void>;
  /** Stops fetching, waits for the in-flight batch, and leaves the group. Idempotent. */
  stop(): Promise<void>;
}
