import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DecisionLog, DecisionLogRecord } from '../../autoscaler/ports/decision-log.js';

/**
 * The decision log as JSON lines appended to a file, with listeners (the dashboard, the demo's counters) that see
 * every record as it is written.
 */
export class JsonlDecisionLog implements DecisionLog {
  readonly #out: WriteStream;
  readonly #listeners: ((r: DecisionLogRecord) => void)[] = [];
  readonly file: string;

  constructor(file: string) {
    this.file = resolve(file);
    mkdirSync(dirname(this.file), { recursive: true });
    this.#out = createWriteStream(this.file, { flags: 'a' });
  }

  /** Calls `listener` with every record appended from now on. */
  subscribe(listener: (r: DecisionLogRecord) => void): void {
    this.#listeners.push(listener);
  }

  append(record: DecisionLogRecord): Promise<void> {
    for (const l of this.#listeners) {
      try {
        l(record);
      } catch {
        // A listener's failure must not stop the loop.
      }
    }
    return new Promise((done, fail) => {
      this.#out.write(`${JSON.stringify(record)}\n`, (err) => (err ? fail(err) : done()));
    });
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return new Promise((done) => this.#out.end(done));
  }
}
