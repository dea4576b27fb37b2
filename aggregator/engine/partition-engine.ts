import type { DecodedRecord } from '../decode/decoder.js';
import type { PipelineConfig } from '../pipeline/pipeline-schema.js';
import type { Transition } from '../state-machine/state-machine-table.js';
import type { MemoryAccount } from '../store/memory-manager.js';

/** Finished aggregates of one field over one window (only the declared kinds are present). */
export interface FieldAggregates {
  /** Records that carried the field. */
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  /** sum / count. */
  mean?: number;
  /** Value of the record with the greatest event time (ties: the greater offset). */
  last?: number;
  /** Quantile → value, keys as declared (`'0.5'`, `'0.99'`), within the sketch's relative accuracy. */
  quantiles?: Record<string, number>;
  /** Distinct values (HyperLogLog estimate). */
  distinct?: number;
}

/** One closed window of one series: what the sinks write (upsert key: pipeline, seriesKey, windowSizeMs, windowStartMs). */
export interface WindowResult {
  pipeline: string;
  seriesKey: string;
  /** Key field → value. */
  keyValues: Record<string, string>;
  windowSizeMs: number;
  /** Inclusive start of [start, start + size), epoch ms. */
  windowStartMs: number;
  /** Field → aggregates. */
  aggregates: Record<string, FieldAggregates>;
  /**
   * Serialized mergeable state of this window (aggregates/partial-codec.ts), carrying its origin
   * (pipeline, topic, partition, series, window). Present when the pipeline declares `nextLevel`
   * or a Kafka sink; a level-2 engine merges it with {@link PartitionEngine.processPartial}.
   */
  partial?: Uint8Array;
}

/** What happened to one input. `late` and `bad_partial` become dead letters with that reason. */
export type ProcessOutcome = { ok: true } | { ok: false; reason: 'late' | 'bad_partial'; detail: string };

/** Outputs ready for the sink, in deterministic order (same input sequence → same arrays). */
export interface EngineOutputs {
  results: WindowResult[];
  transitions: Transition[];
}

export interface EngineStats {
  /** Bytes of state this engine holds (also charged to its memory account). */
  stateBytes: number;
  /** Series with at least one open window. */
  liveSeries: number;
  /** Open (series, window) rows over all window sizes. */
  openWindows: number;
  /** Records (or partials) applied since creation or restore. */
  updates: number;
  /** Records refused as late since creation or restore. */
  lateRecords: number;
  /** Partition watermark: greatest event time seen (-Infinity before the first record). */
  watermarkMs: number;
}

export interface PartitionEngineOptions {
  pipeline: PipelineConfig;
  topic: string;
  partition: number;
  /** The worker's memory manager account for this pipeline; a private unlimited one if absent. */
  memory?: MemoryAccount;
}

/**
 * The pure aggregation state of one (pipeline, topic, partition): tumbling windows of every
 * declared size, per-key state machines, the partition watermark, all in typed storage charged
 * to the memory manager. Deterministic: the outputs depend only on the sequence of inputs, and
 * `restore(snapshot())` continues exactly as the uninterrupted engine would.
 */
export declare class PartitionEngine {
  constructor(opts: PartitionEngineOptions);
  /** Applies one decoded record at `offset` (Kafka offset as a number). */
  process(record: DecodedRecord, offset: number): ProcessOutcome;
  /** Level 2: merges a partial written by a level-1 engine, replacing any partial from the same origin. */
  processPartial(partial: Uint8Array, offset: number): ProcessOutcome;
  /** Windows closed and transitions made since the last call. */
  drainClosed(): EngineOutputs;
  /** Closes every open window now (end of a bounded input) and returns all outputs. */
  flush(): EngineOutputs;
  /** Serialized state (windows, dictionary, watermark, state machines); see {@link PartitionEngine.restore}. */
  snapshot(): Uint8Array;
  static restore(opts: PartitionEngineOptions, snapshot: Uint8Array): PartitionEngine;
  stats(): EngineStats;
  /** Releases the state's memory (partition revoked); the engine must not be used afterwards. */
  release(): void;
}
