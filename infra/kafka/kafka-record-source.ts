import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type {
  RecordSource,
  SourceBatch,
  SourceHandlers,
  TopicPartition,
} from '../../aggregator/worker/record-source.js';
import type { Logger } from '../log/logger.js';

export interface KafkaRecordSourceOptions {
  groupId: string;
  topics: string[];
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxBytesPerPartition: number;
}

/**
 * A kafkajs consumer-group member with manual offset management: offsets are resolved for
 * fetch progress only and committed exclusively through {@link commit}, after a checkpoint.
 * Assignment changes reach the worker (GROUP_JOIN) before any batch of the new generation.
 */
export class KafkaRecordSource implements RecordSource {
  private consumer: Consumer | undefined;
  private owned = new Set<string>();
  private assignmentChain: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  /** Connected on first use (end offsets of idle partitions), disconnected by {@link stop}. */
  private admin: Promise<Admin> | undefined;
  /**
   * Per partition, the latest run of offsets [from, to) seen to hold no data: transaction markers
   * (and aborted records) after the last records handed out, which kafkajs filters and skips.
   */
  private readonly noData = new Map<string, { from: bigint; to: bigint }>();

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: KafkaRecordSourceOptions,
    private readonly log: Logger,
  ) {}

  async start(handlers: SourceHandlers): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.opts.groupId,
      sessionTimeout: this.opts.sessionTimeoutMs,
      rebalanceTimeout: Math.max(this.opts.sessionTimeoutMs, 30_000),
      heartbeatInterval: this.opts.heartbeatIntervalMs,
      maxBytesPerPartition: this.opts.maxBytesPerPartition,
      allowAutoTopicCreation: false,
      retry: { retries: 10 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const now = new Set<string>();
      for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) {
        for (const p of partitions) now.add(tpKey({ topic, partition: p }));
      }
      const assigned = [...now].filter((k) => !this.owned.has(k)).map(parseTp);
      const revoked = [...this.owned].filter((k) => !now.has(k)).map(parseTp);
      this.owned = now;
      for (const k of [...this.noData.keys()]) if (!now.has(k)) this.noData.delete(k);
      this.log.info(
        { assigned, revoked, generation: event.payload.memberId },
        'partition assignment changed',
      );
      this.assignmentChain = this.assignmentChain.then(() => handlers.onAssignment(assigned, revoked));
    });
    // Batches of transaction markers or aborted records only never reach eachBatch: kafkajs
    // resolves them itself and says so here.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0 && payload.firstOffset !== null)
        this.noteNoData(payload, BigInt(payload.firstOffset), BigInt(payload.lastOffset) + 1n);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.opts.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.handleBatch(payload, handlers),
    });
  }

  private async handleBatch(payload: EachBatchPayload, handlers: SourceHandlers): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    await this.assignmentChain;
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const sourceBatch: SourceBatch = {
      topic: batch.topic,
      partition: batch.partition,
      highWatermark: dataHighWatermark(
        batch.highWatermark,
        batch.lastOffset(),
        batch.messages[batch.messages.length - 1]!.offset,
      ),
      records: batch.messages.map((m) => ({
        offset: m.offset,
        key: m.key ?? null,
        value: m.value ?? null,
        sizeBytes: m.value?.length ?? 0,
      })),
    };
    const outcome = await handlers.onBatch(sourceBatch, heartbeat);
    if (outcome.kind === 'seek') {
      this.consumer?.seek({ topic: batch.topic, partition: batch.partition, offset: outcome.offset });
      return;
    }
    const next = BigInt(outcome.nextOffset);
    if (next > 0n) resolveOffset((next - 1n).toString());
    // A batch ending in a transaction marker: the marker holds no data.
    this.noteNoData(batch, next, BigInt(batch.lastOffset()) + 1n);
  }

  private noteNoData(tp: TopicPartition, from: bigint, to: bigint): void {
    if (to <= from) return;
    const k = tpKey(tp);
    const prev = this.noData.get(k);
    if (prev && prev.from <= from && from <= prev.to)
      this.noData.set(k, { from: prev.from, to: to > prev.to ? to : prev.to });
    else this.noData.set(k, { from, to });
  }

  pause(partitions: TopicPartition[]): void {
    this.consumer?.pause(group(partitions));
  }

  resume(partitions: TopicPartition[]): void {
    this.consumer?.resume(group(partitions));
  }

  async endOffsets(partitions: TopicPartition[]): Promise<(TopicPartition & { offset: string })[]> {
    if (this.stopping) throw new Error('the record source is stopped');
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })().catch((err: unknown) => {
      this.admin = undefined;
      throw err;
    });
    const admin = await this.admin;
    const out: (TopicPartition & { offset: string })[] = [];
    for (const { topic, partitions: wanted } of group(partitions)) {
      const ends = await admin.fetchTopicOffsets(topic);
      for (const p of wanted) {
        const end = ends.find((e) => e.partition === p);
        if (!end) continue;
        // Offsets at the end known to hold no data (a transactional producer's last commit
        // marker) are not records left to consume.
        const high = BigInt(end.high);
        const tail = this.noData.get(tpKey({ topic, partition: p }));
        const dataEnd = tail && tail.to >= high && tail.from < high ? tail.from : high;
        out.push({ topic, partition: p, offset: dataEnd.toString() });
      }
    }
    return out;
  }

  async commit(offsets: (TopicPartition & { offset: string })[]): Promise<void> {
    if (!this.consumer || offsets.length === 0) return;
    await this.consumer.commitOffsets(
      offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })),
    );
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const admin = this.admin;
      this.admin = undefined;
      if (admin) await admin.then((a) => a.disconnect()).catch(() => undefined);
      const consumer = this.consumer;
      if (!consumer) return;
      // disconnect() stops the fetch loop, waits for the running batch, and leaves the group.
      await consumer.disconnect();
    })();
    return this.stopping;
  }
}

/**
 * The partition's high watermark less the offsets at the end of a batch that hold no data (a
 * transactional producer's commit marker, aborted records: `lastOffset` counts them, the last
 * record does not), so that a consumer caught up with a transactional partition shows no lag.
 */
export function dataHighWatermark(
  highWatermark: string,
  lastOffset: string,
  lastRecordOffset: string,
): string {
  const high = BigInt(highWatermark);
  const trailing = BigInt(lastOffset) - BigInt(lastRecordOffset);
  const floor = BigInt(lastRecordOffset) + 1n;
  const data = trailing > 0n ? high - trailing : high;
  return (data > floor ? data : floor > high ? high : floor).toString();
}

function tpKey(tp: TopicPartition): string {
  return `${tp.partition}\u0000${tp.topic}`;
}

function parseTp(key: string): TopicPartition {
  const i = key.indexOf('\u0000');
  return { partition: Number(key.slice(0, i)), topic: key.slice(i + 1) };
}

function group(partitions: TopicPartition[]): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  return [...byTopic.entries()].map(([topic, ps]) => ({ topic, partitions: ps }));
}
