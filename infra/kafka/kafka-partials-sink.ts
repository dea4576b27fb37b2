import type { Producer } from 'kafkajs';
import type { PartitionRef } from '../../aggregator/checkpoint/checkpoint-types.js';
import { seriesKeyOf } from '../../aggregator/decode/series-key.js';
import type { WindowResult } from '../../aggregator/engine/partition-engine.js';
import type { Sink } from '../../aggregator/ports/sink.js';
import type { Transition } from '../../aggregator/state-machine/state-machine-table.js';

/**
 * Mergeable partial aggregates to a Kafka topic, keyed by the next level's key fields (e.g. site
 * instead of device), so one hot input partition spreads over many level-2 partitions. A
 * replay re-sends the same partials; level 2 replaces a partial from the same origin.
 */
export class KafkaPartialsSink implements Sink {
  readonly name = 'kafka';
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    /** Key fields of the record key; all of the result's key when omitted. */
    private readonly keyFields?: string[],
  ) {}

  async write(results: WindowResult[], _transitions: Transition[], _origin?: PartitionRef): Promise<void> {
    const messages = results.map((r) => {
      if (!r.partial)
        throw new Error(
          `pipeline ${r.pipeline}: a Kafka sink needs partials, but the result of ${r.seriesKey} has none`,
        );
      const key = this.keyFields ? seriesKeyOf(this.keyFields.map((f) => r.keyValues[f] ?? '')) : r.seriesKey;
      return { key, value: Buffer.from(r.partial) };
    });
    if (messages.length > 0) await this.producer.send({ topic: this.topic, acks: -1, messages });
  }

  async close(): Promise<void> {}
}
