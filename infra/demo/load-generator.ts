import type { Kafka, Producer } from 'kafkajs';
import { rateAt, type TimeCompression } from './bike-trace.js';

export interface LoadGeneratorOptions {
  kafka: Kafka;
  topic: string;
  partitions: number;
  /** Distinct keys (stations); station i goes to partition i mod partitions. */
  stations: number;
  /** Series-key prefix of this run, so its rows are told apart from earlier runs'. */
  runId: string;
  windowMs: number;
  day: readonly number[];
  compression: TimeCompression;
  /** Send period. */
  tickMs?: number;
  now?: () => number;
  onError?: (error: unknown) => void;
}

/**
 * Replays the trace's rate as keyed ride events `{ station, ts, minutes }` (event time = wall time) and counts, per
 * (station, window), what it produced: the independent side of the no-loss check.
 */
export class LoadGenerator {
  readonly #opts: LoadGeneratorOptions;
  readonly #now: () => number;
  readonly #produced = new Map<string, number>();
  #producer: Producer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #carry = 0;
  #last = 0;
  #sending: Promise<void> = Promise.resolve();
  #seed = 12345;
  #total = 0;
  #currentRate = 0;

  constructor(opts: LoadGeneratorOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Records produced so far (acknowledged by Kafka). */
  get recordsProduced(): number {
    return this.#total;
  }

  /** The rate being replayed now, records/s. */
  get currentRate(): number {
    return this.#currentRate;
  }

  /** Counts per `seriesKey|windowStart` of everything produced. */
  get produced(): ReadonlyMap<string, number> {
    return this.#produced;
  }

  /** The partition this generator sends a series key (`<runId>-s<i>`) to. */
  partitionOf(seriesKey: string): number {
    const i = Number(seriesKey.slice(seriesKey.lastIndexOf('-s') + 2));
    return Number.isInteger(i) ? i % this.#opts.partitions : -1;
  }

  async start(): Promise<void> {
    // Idempotent: a send retried after a lost acknowledgement (a leader election on a starved broker) is written once,
    // so the independent count stays exact.
    this.#producer = this.#opts.kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await this.#producer.connect();
    this.#last = this.#now();
    this.#timer = setInterval(() => {
      this.#sending = this.#sending.then(() => this.#tick()).catch((e: unknown) => this.#opts.onError?.(e));
    }, this.#opts.tickMs ?? 250);
  }

  /** Stops producing; then one far-future marker per partition closes every open window. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sending;
    const producer = this.#producer;
    if (!producer) return;
    const ts = this.#now() + 10 * this.#opts.windowMs;
    await producer.send({
      topic: this.#opts.topic,
      acks: -1,
      messages: Array.from({ length: this.#opts.partitions }, (_, p) => ({
        key: `end-${p}`,
        partition: p,
        value: JSON.stringify({ station: `__end-${this.#opts.runId}-${p}`, ts, minutes: 0 }),
      })),
    });
    await producer.disconnect();
    this.#producer = undefined;
  }

  #random(): number {
    // mulberry32: deterministic keys and values for a given run.
    this.#seed = (this.#seed + 0x6d2b79f5) >>> 0;
    let t = this.#seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  async #tick(): Promise<void> {
    const producer = this.#producer;
    if (!producer) return;
    const now = this.#now();
    const rate = rateAt(this.#opts.day, this.#opts.compression, now);
    this.#currentRate = rate;
    this.#carry += (rate * (now - this.#last)) / 1000;
    this.#last = now;
    const n = Math.floor(this.#carry);
    if (n <= 0) return;
    this.#carry -= n;
    const { stations, partitions, runId, windowMs, topic } = this.#opts;
    const byPartition = new Map<number, { key: string; value: string }[]>();
    const counted: string[] = [];
    for (let i = 0; i < n; i++) {
      const s = Math.floor(this.#random() * stations);
      const station = `${runId}-s${s}`;
      const msg = {
        key: station,
        value: JSON.stringify({ station, ts: now, minutes: 1 + Math.floor(this.#random() * 60) }),
      };
      const list = byPartition.get(s % partitions) ?? [];
      list.push(msg);
      byPartition.set(s % partitions, list);
      counted.push(`${station}|${Math.floor(now / windowMs) * windowMs}`);
    }
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byPartition].map(([partition, messages]) => ({
        topic,
        messages: messages.map((m) => ({ ...m, partition })),
      })),
    });
    for (const k of counted) this.#produced.set(k, (this.#produced.get(k) ?? 0) + 1);
    this.#total += n;
  }
}
