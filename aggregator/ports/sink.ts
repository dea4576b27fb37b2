import type { PartitionRef } from '../checkpoint/checkpoint-types.js';
import type { DeadLetter } from '../dead-letter/dead-letter.js';
import type { WindowResult } from '../engine/partition-engine.js';
import type { Transition } from '../state-machine/state-machine-table.js';

/**
 * Where closed windows and state-machine transitions go (Cassandra, S3, Kafka).
 *
 * Writes are idempotent upserts keyed by (pipeline, series key, window size, window start) for
 * results and (pipeline, machine, series key, time, from, to) for transitions: a replay after a
 * crash writes the same keys with the same values, so nothing is counted twice.
 */
export interface Sink {
  /** Short adapter name for logs and metric labels (`cassandra`, `s3`, `kafka`). */
  readonly name: string;
  /**
   * Durably writes one batch; resolves only when every row is stored. Rejects on failure (the
   * caller retries the same batch with backoff and does not advance meanwhile), so partial
   * success must be harmless: rewriting rows already stored changes nothing.
   * @param origin the partition that produced the batch (deterministic object keys in S3,
   *   the origin of partials in Kafka).
   */
  write(results: WindowResult[], transitions: Transition[], origin?: PartitionRef): Promise<void>;
  /** Flushes and releases the adapter's resources; idempotent. */
  close(): Promise<void>;
}

/** Where refused input goes: the dead-letter topic, with the reason in a header. */
export interface DeadLetterSink {
  /** Sends a batch of dead letters; resolves when they are durable. Must never throw on the content. */
  send(deadLetters: DeadLetter[]): Promise<void>;
  /** Flushes and releases resources; idempotent. */
  close(): Promise<void>;
}
