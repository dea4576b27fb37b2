import type { PartitionRef } from '../checkpoint/checkpoint-types.js';
import type { WindowResult } from '../engine/partition-engine.js';
import type { Sink } from '../ports/sink.js';
import type { Transition } from '../state-machine/state-machine-table.js';

/**
 * Writes each batch to several sinks (a pipeline's own sink plus, with `nextLevel`, the
 * intermediate topic). All must succeed; a retry rewrites to all, which idempotence allows.
 */
export class FanOutSink implements Sink {
  readonly name: string;
  constructor(private readonly sinks: Sink[]) {
    this.name = sinks.map((s) => s.name).join('+');
  }

  async write(results: WindowResult[], transitions: Transition[], origin?: PartitionRef): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.write(results, transitions, origin)));
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close()));
  }
}
