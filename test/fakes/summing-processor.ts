import type { PartitionRef } from '../../aggregator/checkpoint/checkpoint-types.js';
import { type Bytes, joinBytes } from '../../aggregator/codec/byte-io.js';
import type { DeadLetter } from '../../aggregator/dead-letter/dead-letter.js';
import type { WindowResult } from '../../aggregator/engine/partition-engine.js';
import type {
  PartitionProcessor,
  ProcessorFactory,
  ProcessorOutputs,
  ProcessorStats,
} from '../../aggregator/worker/partition-processor.js';
import type { SourceRecord } from '../../aggregator/worker/record-source.js';

/**
 * A stand-in processor for worker tests: values are `key=number`; it keeps a running sum per
 * key and emits one result per applied record (the sum so far), so every applied record is
 * visible in the sink. `bad` values become dead letters.
 */
export class SummingProcessor implements PartitionProcessor {
  private sums: Record<string, number>;
  private pending: WindowResult[] = [];
  released = false;

  constructor(
    readonly ref: PartitionRef,
    snapshot?: Bytes,
  ) {
    this.sums = snapshot
      ? (JSON.parse(Buffer.from(joinBytes(snapshot)).toString()) as Record<string, number>)
      : {};
  }

  applyBatch(records: readonly SourceRecord[], from: number, deadLetters: DeadLetter[]): number {
    let applied = 0;
    for (let i = from; i < records.length; i++) {
      const dead = this.apply(records[i]!);
      if (dead) deadLetters.push(dead);
      else applied++;
    }
    return applied;
  }

  private apply(record: SourceRecord): DeadLetter | undefined {
    const text = record.value?.toString() ?? '';
    const [key, num] = text.split('=');
    if (!key || num === undefined || Number.isNaN(Number(num))) {
      return {
        reason: 'malformed_json',
        detail: `bad value ${text}`,
        pipeline: this.ref.pipeline,
        topic: this.ref.topic,
        partition: this.ref.partition,
        offset: record.offset,
        key: null,
        value: record.value,
      };
    }
    this.sums[key] = (this.sums[key] ?? 0) + Number(num);
    this.pending.push({
      pipeline: this.ref.pipeline,
      seriesKey: key,
      keyValues: { key },
      windowSizeMs: 0,
      windowStartMs: Number(record.offset),
      aggregates: { v: { sum: this.sums[key] } },
    });
    return undefined;
  }
  /** Hands out at most `maxRows` results per call, the rest kept for later calls (as the engine does by parts). */
  takeOutputs(maxRows = Number.POSITIVE_INFINITY): ProcessorOutputs {
    const results = this.pending.splice(0, maxRows);
    return { results, transitions: [], more: this.pending.length > 0 };
  }
  /** Results applied but not yet taken. */
  pendingResults(): number {
    return this.pending.length;
  }
  /** No event time here: the worker never moves it on (`idleAfterMs` undefined). */
  readonly idleAfterMs = undefined;
  watermarkMs(): number {
    return Number.NEGATIVE_INFINITY;
  }
  nextDueMs(): number {
    return Number.POSITIVE_INFINITY;
  }
  advanceWatermark(): void {
    throw new Error('SummingProcessor has no event time to advance');
  }
  snapshot(): Uint8Array {
    return Buffer.from(JSON.stringify(this.sums));
  }
  stats(): ProcessorStats {
    return {
      stateBytes: JSON.stringify(this.sums).length,
      liveSeries: Object.keys(this.sums).length,
      openWindows: 0,
      updates: 0,
    };
  }
  release(): void {
    this.released = true;
  }
  sum(key: string): number | undefined {
    return this.sums[key];
  }
}

export class SummingFactory implements ProcessorFactory {
  readonly created: SummingProcessor[] = [];
  pressure: 'ok' | 'pause' = 'ok';
  constructor(private readonly pipelines: string[] = ['p']) {}
  pipelinesFor(): string[] {
    return this.pipelines;
  }
  create(ref: PartitionRef, snapshot?: Bytes): SummingProcessor {
    const p = new SummingProcessor(ref, snapshot);
    this.created.push(p);
    return p;
  }
  /** Bytes charged by {@link holdBytes} and not released yet. */
  held = 0;
  holdBytes(bytes: number): () => void {
    this.held += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= bytes;
    };
  }
  memory() {
    return {
      usedBytes: 10 + this.held,
      limitBytes: 100,
      liveSeries: 1,
      byPipeline: { p: 10 },
      pressure: this.pressure,
    };
  }
}
