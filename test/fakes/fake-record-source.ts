import type {
  BatchOutcome,
  RecordSource,
  SourceBatch,
  SourceHandlers,
  TopicPartition,
} from '../../aggregator/worker/record-source.js';

/** A record source driven by the test: it delivers batches and rebalances on demand and records every call. */
export class FakeRecordSource implements RecordSource {
  handlers: SourceHandlers | undefined;
  readonly events: string[] = [];
  readonly commits: (TopicPartition & { offset: string })[] = [];
  readonly paused = new Set<string>();
  stopped = 0;
  /** Heartbeats sent through the batches' heartbeat callbacks. */
  heartbeats = 0;
  failCommits = false;

  constructor(private readonly log: string[] = []) {}

  async start(handlers: SourceHandlers): Promise<void> {
    this.handlers = handlers;
  }
  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.paused.add(`${tp.topic}:${tp.partition}`);
  }
  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.paused.delete(`${tp.topic}:${tp.partition}`);
  }
  /** End offsets by `topic:partition`: the high watermark of the last batch delivered, or set by the test. */
  readonly ends = new Map<string, number>();
  async endOffsets(partitions: TopicPartition[]): Promise<(TopicPartition & { offset: string })[]> {
    return partitions.map((tp) => ({
      ...tp,
      offset: String(this.ends.get(`${tp.topic}:${tp.partition}`) ?? 0),
    }));
  }
  async commit(offsets: (TopicPartition & { offset: string })[]): Promise<void> {
    if (this.failCommits) throw new Error('commit failed');
    this.commits.push(...offsets);
    for (const o of offsets) this.log.push(`commit ${o.topic}:${o.partition}@${o.offset}`);
  }
  async stop(): Promise<void> {
    this.stopped += 1;
    this.log.push('stop');
  }

  assign(assigned: TopicPartition[], revoked: TopicPartition[] = []): Promise<void> {
    return this.handlers!.onAssignment(assigned, revoked);
  }

  /** Delivers values as records starting at `firstOffset`. */
  deliver(
    topic: string,
    partition: number,
    firstOffset: number,
    values: (string | null)[],
    highWatermark?: number,
  ): Promise<BatchOutcome> {
    const end = highWatermark ?? firstOffset + values.length;
    this.ends.set(`${topic}:${partition}`, Math.max(end, this.ends.get(`${topic}:${partition}`) ?? 0));
    const batch: SourceBatch = {
      topic,
      partition,
      highWatermark: String(highWatermark ?? firstOffset + values.length),
      records: values.map((v, i) => ({
        offset: String(firstOffset + i),
        key: null,
        value: v === null ? null : Buffer.from(v),
        sizeBytes: v?.length ?? 0,
      })),
    };
    return this.handlers!.onBatch(batch, async () => {
      this.heartbeats += 1;
    });
  }
}
