import type { PartitionRef } from '../checkpoint/checkpoint-types.js';
import type { Bytes } from '../codec/byte-io.js';
import type { DeadLetter } from '../dead-letter/dead-letter.js';
import type { WindowResult } from '../engine/partition-engine.js';
import type { Transition } from '../state-machine/state-machine-table.js';
import type { SourceRecord } from './record-source.js';

/**
 * The memory report's entry for snapshot copies being stored (a checkpoint serializes the state,
 * a copy as large as it, and uploads it in the background). No pipeline is named so.
 */
export const SNAPSHOT_COPIES = '(snapshots)';

/** What a processor produced since it was last asked. */
export interface ProcessorOutputs {
  results: WindowResult[];
  transitions: Transition[];
  /** Closed windows' rows are left for the next call (`maxRows` was reached). */
  more: boolean;
}

/**
 * One pipeline's state for one Kafka partition: decode, aggregate, state machines. The worker
 * runtime only moves records in and outputs and snapshots out; everything between is pure.
 */
export interface PartitionProcessor {
  readonly ref: PartitionRef;
  /**
   * Decodes and applies `records[from..]` (one fetch's records of this partition, in offset order),
   * as one call per record in that order would; appends a dead letter per refused record, in
   * record order, to `deadLetters`. Returns how many records were applied (not refused).
   */
  applyBatch(records: readonly SourceRecord[], from: number, deadLetters: DeadLetter[]): number;
  /**
   * Closed windows and transitions produced since the last call, in deterministic order. With
   * `maxRows`, about that many window rows (whole parts of a window: see the engine's
   * PART_SLOTS), the rest left in the processor's typed state for the next calls (`more`).
   */
  takeOutputs(maxRows?: number): ProcessorOutputs;
  /**
   * The pipeline's `idleAfterMs`: how long its partition must be caught up and silent before the
   * worker moves its watermark on without records (undefined: never).
   */
  readonly idleAfterMs: number | undefined;
  /** The greatest event time applied (or advanced to); -∞ before the first record. */
  watermarkMs(): number;
  /** The least watermark at which a window closes or a timer fires (+∞: nothing pending). */
  nextDueMs(): number;
  /**
   * Moves the watermark to `t` without a record (see the pipeline's `idleAfterMs`): the windows
   * it passes close and the timers due fire, handed out by the next {@link takeOutputs}.
   */
  advanceWatermark(t: number): void;
  /** The state, for a checkpoint (restorable by the factory). */
  snapshot(): Uint8Array;
  /** Facts for metrics and `checkpoint inspect`. */
  stats(): ProcessorStats;
  /** Releases the state's memory (partition revoked or worker drained). */
  release(): void;
}

export interface ProcessorStats {
  stateBytes: number;
  liveSeries: number;
  openWindows: number;
  updates: number;
  /** Where series keys are looked up (`/status`); absent for processors without a dictionary. */
  keyLookup?: 'webassembly' | 'javascript';
  /** Where the rows of the newest open window are updated (`/status`; see EngineStats). */
  rowUpdates?: 'webassembly' | 'javascript';
}

/** Builds processors for the pipelines that read a topic, fresh or from a checkpoint snapshot. */
export interface ProcessorFactory {
  /** Names of the pipelines that consume this topic. */
  pipelinesFor(topic: string): string[];
  /**
   * `snapshot`: a checkpoint's state, whole or as its consecutive parts. Parts are handed over:
   * the processor may drop them from the array as it reads them (the caller must not reuse them).
   */
  create(ref: PartitionRef, snapshot?: Bytes): PartitionProcessor;
  /**
   * Charges `bytes` held outside the processors (a serialized snapshot while it is stored) to the
   * memory budget, under {@link SNAPSHOT_COPIES} in `byPipeline`, until the returned function is
   * called (idempotent).
   */
  holdBytes(bytes: number): () => void;
  /** Bytes used, budget and backpressure state of the memory manager shared by all processors. */
  memory(): {
    usedBytes: number;
    limitBytes: number;
    liveSeries: number;
    byPipeline: Record<string, number>;
    pressure: 'ok' | 'pause';
  };
}
