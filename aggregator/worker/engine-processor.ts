import type { PartitionRef } from '../checkpoint/checkpoint-types.js';
import type { Bytes } from '../codec/byte-io.js';
import type { DeadLetter } from '../dead-letter/dead-letter.js';
import type { DecodedRecord, Decoder } from '../decode/decoder.js';
import { type DecoderRegistry, defaultDecoderRegistry } from '../decode/decoder-registry.js';
import type { DecoderSpec } from '../decode/json-decoder.js';
import { PartitionEngine } from '../engine/partition-engine.js';
import type { PipelineConfig } from '../pipeline/pipeline-schema.js';
import { MemoryManager, type MemoryManagerOptions } from '../store/memory-manager.js';
import {
  type PartitionProcessor,
  type ProcessorFactory,
  type ProcessorOutputs,
  type ProcessorStats,
  SNAPSHOT_COPIES,
} from './partition-processor.js';
import type { SourceRecord } from './record-source.js';

/**
 * Records decoded before the engine applies them together ({@link PartitionEngine.processBatch}
 * overlaps their memory reads in chunks of its own; this bounds the decoded records kept alive).
 */
const DECODE_CHUNK = 256;

/**
 * Dead letters from `from` on, stably sorted by offset (one partition: offset order is record
 * order; the worker refuses offsets past 2^53, so the numbers are exact).
 */
function sortTail(deadLetters: DeadLetter[], from: number): void {
  const tail = deadLetters.splice(from);
  tail.sort((a, b) => Number(a.offset) - Number(b.offset));
  deadLetters.push(...tail);
}

/** Decode (or read a level-1 partial) and apply to the pipeline's PartitionEngine. */
export class EngineProcessor implements PartitionProcessor {
  /** Decoded records of the chunk being applied, their offsets and their indexes in the batch. */
  private readonly decoded: DecodedRecord[] = [];
  private readonly offsets = new Float64Array(DECODE_CHUNK);
  private readonly at = new Int32Array(DECODE_CHUNK);

  constructor(
    readonly ref: PartitionRef,
    private readonly engine: PartitionEngine,
    private readonly decoder: Decoder | undefined,
    readonly idleAfterMs: number | undefined = undefined,
  ) {}

  applyBatch(records: readonly SourceRecord[], from: number, deadLetters: DeadLetter[]): number {
    if (this.decoder === undefined) return this.applyPartials(records, from, deadLetters);
    const decoded = this.decoded;
    const offsets = this.offsets;
    /** Index in `records` of each decoded one. */
    const at = this.at;
    const firstDead = deadLetters.length;
    let late = false;
    let applied = 0;
    for (let i = from; i < records.length; ) {
      let n = 0;
      for (; i < records.length && n < DECODE_CHUNK; i++) {
        const record = records[i]!;
        const d = this.decoder.decode(record.value, record.sizeBytes);
        if (!d.ok) {
          deadLetters.push(this.deadLetter(record, d.reason, d.detail));
          continue;
        }
        decoded[n] = d.record;
        offsets[n] = Number(record.offset);
        at[n] = i;
        n++;
      }
      let refused = 0;
      this.engine.processBatch(decoded, offsets, n, (j, outcome) => {
        deadLetters.push(this.deadLetter(records[at[j]!]!, outcome.reason, outcome.detail));
        refused++;
        late = true;
      });
      applied += n - refused;
    }
    // Refusals of the engine were appended after their chunk's decode failures: back to record order.
    if (late) sortTail(deadLetters, firstDead);
    return applied;
  }

  private applyPartials(records: readonly SourceRecord[], from: number, deadLetters: DeadLetter[]): number {
    let applied = 0;
    for (let i = from; i < records.length; i++) {
      const record = records[i]!;
      if (record.value === null) {
        deadLetters.push(this.deadLetter(record, 'bad_partial', 'partial record has no value'));
        continue;
      }
      const outcome = this.engine.processPartial(record.value, Number(record.offset));
      if (outcome.ok) applied++;
      else deadLetters.push(this.deadLetter(record, outcome.reason, outcome.detail));
    }
    return applied;
  }

  takeOutputs(maxRows?: number): ProcessorOutputs {
    return this.engine.drainClosed(maxRows);
  }

  watermarkMs(): number {
    return this.engine.watermarkMs();
  }

  nextDueMs(): number {
    return this.engine.nextDueMs();
  }

  advanceWatermark(t: number): void {
    this.engine.advanceWatermark(t);
  }

  snapshot(): Uint8Array {
    return this.engine.snapshot();
  }

  stats(): ProcessorStats {
    const s = this.engine.stats();
    return {
      stateBytes: s.stateBytes,
      liveSeries: s.liveSeries,
      openWindows: s.openWindows,
      updates: s.updates,
      keyLookup: s.keyLookup,
      rowUpdates: s.rowUpdates,
    };
  }

  release(): void {
    this.engine.release();
  }

  private deadLetter(record: SourceRecord, reason: DeadLetter['reason'], detail: string): DeadLetter {
    return {
      reason,
      detail,
      pipeline: this.ref.pipeline,
      topic: this.ref.topic,
      partition: this.ref.partition,
      offset: record.offset,
      key: record.key,
      value: record.value,
    };
  }
}

/** What the decoder must extract for a pipeline: key, time, aggregated fields, predicate fields. */
export function decoderSpecFor(p: PipelineConfig): DecoderSpec {
  const numericFields = p.aggregates.filter((a) => a.kinds.some((k) => k !== 'distinct')).map((a) => a.field);
  const distinctFields = p.aggregates.filter((a) => a.kinds.includes('distinct')).map((a) => a.field);
  const predicateFields = [...new Set(collectFieldNames(p.stateMachines))].sort();
  return {
    keyFields: p.keyFields,
    eventTimeField: p.eventTimeField,
    numericFields,
    distinctFields,
    maxRecordBytes: p.maxRecordBytes,
    predicateFields,
  };
}

/** Every `field: "<name>"` inside state-machine predicates. */
function collectFieldNames(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(collectFieldNames);
  if (typeof node !== 'object' || node === null) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(node)) {
    if (k === 'field' && typeof v === 'string') out.push(v);
    else out.push(...collectFieldNames(v));
  }
  return out;
}

/** Processors for every pipeline of the config, sharing one memory manager (the worker's budget). */
export class EngineProcessorFactory implements ProcessorFactory {
  private readonly byTopic = new Map<string, PipelineConfig[]>();
  private readonly byName = new Map<string, PipelineConfig>();
  private readonly memoryManager: MemoryManager;

  constructor(
    pipelines: PipelineConfig[],
    memory: MemoryManagerOptions,
    private readonly decoders: DecoderRegistry = defaultDecoderRegistry(),
  ) {
    this.memoryManager = new MemoryManager(memory);
    for (const p of pipelines) {
      this.byName.set(p.name, p);
      for (const t of p.source.topics) this.byTopic.set(t, [...(this.byTopic.get(t) ?? []), p]);
    }
  }

  topics(): string[] {
    return [...this.byTopic.keys()].sort();
  }

  pipelinesFor(topic: string): string[] {
    return (this.byTopic.get(topic) ?? []).map((p) => p.name);
  }

  create(ref: PartitionRef, snapshot?: Bytes): PartitionProcessor {
    const pipeline = this.byName.get(ref.pipeline);
    if (!pipeline) throw new Error(`no pipeline named ${ref.pipeline}`);
    const opts = {
      pipeline,
      topic: ref.topic,
      partition: ref.partition,
      memory: this.memoryManager.account(pipeline.name),
    };
    const engine = snapshot
      ? PartitionEngine.restore(opts, snapshot, { release: true })
      : new PartitionEngine(opts);
    const decoder =
      pipeline.source.format === 'partial'
        ? undefined
        : this.decoders.create(pipeline.source.format, decoderSpecFor(pipeline));
    return new EngineProcessor(ref, engine, decoder, pipeline.idleAfterMs);
  }

  holdBytes(bytes: number): () => void {
    const account = this.memoryManager.account(SNAPSHOT_COPIES);
    account.charge(bytes, 0);
    return () => account.close();
  }

  memory() {
    return this.memoryManager.report();
  }
}
