import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { BlobStore } from '../../aggregator/checkpoint/blob-store.js';
import type { PartitionRef } from '../../aggregator/checkpoint/checkpoint-types.js';
import type { WindowResult } from '../../aggregator/engine/partition-engine.js';
import type { Sink } from '../../aggregator/ports/sink.js';
import { flattenAggregates } from '../../aggregator/sink/flatten-aggregates.js';
import type { Transition } from '../../aggregator/state-machine/state-machine-table.js';

const gzipAsync = promisify(gzip);

/**
 * Closed windows as gzipped JSON Lines, one object per (pipeline, window size, window start,
 * source partition, part):
 * `<prefix>/<pipeline>/size=<ms>/start=<ISO>/<topic>-<partition>-part-<5 digits>.jsonl.gz`.
 * A window closes for every series of a partition at once and is handed out in parts that always
 * hold the same rows (WindowResult.part), so a replay rewrites the same objects with the same
 * bytes — an idempotent write. Rows are sorted by series key inside an object. A write's objects
 * (window parts, transitions) go out `concurrency` at a time.
 */
export class S3ResultsSink implements Sink {
  readonly name = 's3';
  constructor(
    private readonly blobs: BlobStore,
    private readonly prefix: string,
    private readonly opts: { concurrency: number } = { concurrency: 16 },
  ) {}

  async write(results: WindowResult[], transitions: Transition[], origin?: PartitionRef): Promise<void> {
    const source = origin ? `${encodeURIComponent(origin.topic)}-${origin.partition}` : 'all';
    const groups = new Map<string, WindowResult[]>();
    for (const r of results) {
      const part = String(r.part ?? 0).padStart(5, '0');
      const key = `${this.prefix}/${encodeURIComponent(r.pipeline)}/size=${r.windowSizeMs}/start=${new Date(r.windowStartMs).toISOString()}/${source}-part-${part}.jsonl.gz`;
      const g = groups.get(key) ?? [];
      g.push(r);
      groups.set(key, g);
    }
    const puts: (() => Promise<void>)[] = [];
    for (const [key, rows] of groups) puts.push(() => this.putRows(key, rows));
    // One small object per transition, keyed by what it is: a replay rewrites the same keys.
    const pipeline = encodeURIComponent(origin?.pipeline ?? results[0]?.pipeline ?? 'unknown');
    for (const t of transitions) {
      const key = `${this.prefix}/${pipeline}/transitions/${encodeURIComponent(t.machine)}/${encodeURIComponent(t.seriesKey)}/${t.atMs}-${encodeURIComponent(t.from)}-${encodeURIComponent(t.to)}.json`;
      puts.push(() => this.blobs.put(key, Buffer.from(JSON.stringify(t))));
    }
    await inLanes(puts, this.opts.concurrency);
  }

  /** One window part's object: its rows sorted by series key, as gzipped JSON Lines. */
  private async putRows(key: string, rows: WindowResult[]): Promise<void> {
    rows.sort((a, b) => (a.seriesKey < b.seriesKey ? -1 : a.seriesKey > b.seriesKey ? 1 : 0));
    const lines = rows.map((r) =>
      JSON.stringify({
        pipeline: r.pipeline,
        seriesKey: r.seriesKey,
        keyValues: r.keyValues,
        windowSizeMs: r.windowSizeMs,
        windowStart: new Date(r.windowStartMs).toISOString(),
        metrics: flattenAggregates(r.aggregates),
      }),
    );
    // On the thread pool: a part of ~14k rows is megabytes of JSON.
    await this.blobs.put(key, await gzipAsync(`${lines.join('\n')}\n`));
  }

  async close(): Promise<void> {}
}

/** Runs `tasks`, at most `lanes` at a time; after a failure no task starts, and the first failure is thrown. */
async function inLanes(tasks: readonly (() => Promise<void>)[], lanes: number): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < tasks.length) {
      try {
        await tasks[next++]!();
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, tasks.length) }, lane));
}
