import type { PartitionRef } from '../../aggregator/checkpoint/checkpoint-types.js';
import type { DeadLetter } from '../../aggregator/dead-letter/dead-letter.js';
import type { WindowResult } from '../../aggregator/engine/partition-engine.js';
import type { DeadLetterSink, Sink } from '../../aggregator/ports/sink.js';
import type { Transition } from '../../aggregator/state-machine/state-machine-table.js';

/** A sink that keeps what it was given (upserts by key, like the real ones) and can fail on demand. */
export class RecordingSink implements Sink {
  readonly name = 'recording';
  readonly rows = new Map<string, WindowResult>();
  writes = 0;
  failuresLeft = 0;
  /** Writes started and not yet finished (each holds its results). */
  inFlight = 0;
  maxInFlight = 0;
  /** When set, every write waits for it before storing. */
  gate: (() => Promise<void>) | undefined;
  constructor(private readonly log: string[] = []) {}
  /** Transitions by machine, series, time and target state (a replay rewrites the same ones). */
  readonly transitions = new Map<string, Transition>();
  /** Every write's results and transitions, in order (rewrites included). */
  readonly history: { results: WindowResult[]; transitions: Transition[] }[] = [];
  async write(results: WindowResult[], transitions: Transition[], _origin?: PartitionRef): Promise<void> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.gate?.();
      this.store(results);
      this.history.push({ results, transitions });
      for (const t of transitions) this.transitions.set(`${t.machine}|${t.seriesKey}|${t.atMs}|${t.to}`, t);
    } finally {
      this.inFlight -= 1;
    }
  }
  private store(results: WindowResult[]): void {
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      this.log.push('sink-fail');
      throw new Error('sink down');
    }
    this.writes += 1;
    for (const r of results)
      this.rows.set(`${r.pipeline}|${r.seriesKey}|${r.windowSizeMs}|${r.windowStartMs}`, r);
    this.log.push(`sink ${results.length}`);
  }
  async close(): Promise<void> {}
}

export class RecordingDeadLetters implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  async send(deadLetters: DeadLetter[]): Promise<void> {
    this.letters.push(...deadLetters);
  }
  async close(): Promise<void> {}
}
