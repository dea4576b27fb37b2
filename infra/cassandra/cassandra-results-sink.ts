import type { Client } from 'cassandra-driver';
import type { WindowResult } from '../../aggregator/engine/partition-engine.js';
import type { Sink } from '../../aggregator/ports/sink.js';
import { flattenAggregates } from '../../aggregator/sink/flatten-aggregates.js';
import type { Transition } from '../../aggregator/state-machine/state-machine-table.js';
import { insertResultCql, insertTransitionCql } from './results-schema.js';
import { ResultRowEncoder } from './row-encoder.js';

export interface CassandraResultsSinkOptions {
  pipeline: string;
  keyspace: string;
  table: string;
  /**
   * Rows in flight at once, roughly: batches go out `max(1, round(concurrency / 8))` at a time
   * (64 → 8 batches of ≤ 25 rows). More only queues inside Cassandra and ends in write timeouts.
   */
  concurrency: number;
  /** Rows per unlogged batch (default 25); 1 sends single INSERTs. */
  rowsPerBatch?: number;
  /** Estimated bytes per batch before it is cut (default 4500: under Cassandra's 5 KiB batch warning). */
  batchBytes?: number;
}

interface Row {
  params: unknown[];
  bytes: number;
}

/**
 * Closed windows and state transitions as idempotent upserts, sent as small prepared UNLOGGED
 * batches (bounded rows and bytes) with bounded concurrency: one request carries many rows, which
 * cuts the driver's per-request CPU and Cassandra's per-request work several-fold compared with
 * one INSERT per row. A batch that fails is retried whole by the worker; every statement is an
 * upsert of the same primary key with the same values, so a replay or a retry changes nothing.
 */
export class CassandraResultsSink implements Sink {
  readonly name = 'cassandra';
  private readonly insertResult: string;
  private readonly insertTransition: string;
  private readonly rowsPerBatch: number;
  private readonly batchBytes: number;
  private readonly rowEncoder = new ResultRowEncoder();

  constructor(
    private readonly client: Client,
    private readonly opts: CassandraResultsSinkOptions,
  ) {
    this.insertResult = insertResultCql(opts.keyspace, opts.table);
    this.insertTransition = insertTransitionCql(opts.keyspace, opts.table);
    this.rowsPerBatch = Math.max(1, opts.rowsPerBatch ?? 25);
    this.batchBytes = opts.batchBytes ?? 4500;
  }

  async write(results: WindowResult[], transitions: Transition[]): Promise<void> {
    if (results.length > 0) {
      const rows: Row[] = new Array(results.length);
      for (let i = 0; i < results.length; i++) {
        const r = results[i]!;
        // Pre-encoded bind values (the driver passes Buffers through): see ResultRowEncoder.
        const params = this.rowEncoder.encode(
          r.pipeline,
          r.seriesKey,
          r.windowSizeMs,
          r.windowStartMs,
          r.keyValues,
          flattenAggregates(r.aggregates),
        );
        let bytes = 16;
        for (let j = 0; j < params.length; j++) bytes += 4 + params[j]!.length;
        rows[i] = { params, bytes };
      }
      await this.send(this.insertResult, rows);
    }
    if (transitions.length > 0) {
      const rows = transitions.map((t) => {
        let bytes = 64 + this.opts.pipeline.length + t.machine.length + t.seriesKey.length;
        bytes += t.from.length + t.to.length + t.cause.length;
        for (const k in t.keyValues) bytes += 8 + k.length + t.keyValues[k]!.length;
        return {
          params: [
            this.opts.pipeline,
            t.machine,
            t.seriesKey,
            new Date(t.atMs),
            t.from,
            t.to,
            t.cause,
            t.keyValues,
          ],
          bytes,
        };
      });
      await this.send(this.insertTransition, rows);
    }
  }

  /** Cuts `rows` into batches (≤ rowsPerBatch rows, ≤ batchBytes unless one row is larger) and sends them, `concurrency` at a time. */
  private async send(query: string, rows: Row[]): Promise<void> {
    const batches: { query: string; params: unknown[] }[][] = [];
    let current: { query: string; params: unknown[] }[] = [];
    let bytes = 0;
    for (const row of rows) {
      if (
        current.length > 0 &&
        (current.length >= this.rowsPerBatch || bytes + row.bytes > this.batchBytes)
      ) {
        batches.push(current);
        current = [];
        bytes = 0;
      }
      current.push({ query, params: row.params });
      bytes += row.bytes;
    }
    if (current.length > 0) batches.push(current);
    let next = 0;
    let failed: unknown;
    const lane = async (): Promise<void> => {
      while (next < batches.length && failed === undefined) {
        const b = batches[next++]!;
        try {
          if (b.length === 1) await this.client.execute(query, b[0]!.params, { prepare: true });
          else await this.client.batch(b, { prepare: true, logged: false });
        } catch (err) {
          failed ??= err;
        }
      }
    };
    const lanes = Math.min(Math.max(1, Math.round(this.opts.concurrency / 8)), batches.length);
    await Promise.all(Array.from({ length: lanes }, lane));
    if (failed !== undefined) throw failed;
  }

  async close(): Promise<void> {
    // The client is shared and closed by its owner.
  }
}
