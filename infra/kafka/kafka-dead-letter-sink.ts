import type { Producer } from 'kafkajs';
import { type DeadLetter, toDeadLetterRecord } from '../../aggregator/dead-letter/dead-letter.js';
import type { DeadLetterSink } from '../../aggregator/ports/sink.js';

/** Produces dead letters to the dead-letter topic: original key and value, the reason in `la-*` headers. */
export class KafkaDeadLetterSink implements DeadLetterSink {
  private closed: Promise<void> | undefined;
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async send(deadLetters: DeadLetter[]): Promise<void> {
    if (deadLetters.length === 0) return;
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: deadLetters.map((d) => toDeadLetterRecord(d)),
    });
  }

  close(): Promise<void> {
    this.closed ??= this.producer.disconnect();
    return this.closed;
  }
}
