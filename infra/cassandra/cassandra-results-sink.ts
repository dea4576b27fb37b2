import { type Client, concurrent } from 'cassandra-driver';
import type { WindowResult } from '../../aggregator/engine/partition-engine.js';
import type { Sink } from '../../aggregator/ports/sink.js';
import { flattenAggregates } from '../../aggregator/sink/flatten-aggregates.js';
import type { Transition } from '../../aggregator/state-machine/state-machine-table.js';
import { insertResultCql, insertTransitionCql } from './results-schema.js';

export interface CassandraResultsSinkOptions {
  pipeline: string;
  keyspace: string;
  table: string;
  /** Writes in flight at once. */
  concurrency: number;
}

/**
 * Closed windows and state transitions as idempotent upserts (executeConcurrent always prepares; bounded
 * concurrency). A replay writes the same primary keys with the same values.
 */
export class CassandraResultsSink implements Sink {
  readonly name = 'cassandra';
  private readonly insertResult: string;
  private readonly insertTransition: string;

  constructor(
    private readonly client: Client,
    private readonly opts: CassandraResultsSinkOptions,
  ) {
    this.insertResult = insertResultCql(opts.keyspace, opts.table);
    this.insertTransition = insertTransitionCql(opts.keyspace, opts.table);
  }

  async write(results: WindowResult[], transitions: Transition[]): Promise<void> {
    if (results.length > 0) {
      const params = results.map((r) => [
        r.pipeline,
        r.seriesKey,
        r.windowSizeMs,
        new Date(r.windowStartMs),
        r.keyValues,
        flattenAggregates(r.aggregates),
      ]);
      await concurrent.executeConcurrent(this.client, this.insertResult, params, {
        concurrencyLevel: this.opts.concurrency,
        raiseOnFirstError: true,
      });
    }
    if (transitions.length > 0) {
      const params = transitions.map((t) => [
        this.opts.pipeline,
        t.machine,
        t.seriesKey,
        new Date(t.atMs),
        t.from,
        t.to,
        t.cause,
        t.keyValues,
      ]);
      await concurrent.executeConcurrent(this.client, this.insertTransition, params, {
        concurrencyLevel: this.opts.concurrency,
        raiseOnFirstError: true,
      });
    }
  }

  async close(): Promise<void> {
    // The client is shared and closed by its owner.
  }
}
