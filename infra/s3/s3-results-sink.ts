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
 * bytes — an idempotent write. Rows are sorted by series key inside an object.
 *
 * Transitions likewise, one gzipped JSON Lines object per part of the partition's sequence of
 * transitions (Transition.part: the engine hands them out in parts that a replay repeats):
 * `<prefix>/<pipeline>/transitions/<topic>-<partition>/seq-<from>-<to>.jsonl.gz` (12 digits each),
 * lines in sequence order. A transition without a part (an engine that does not group) gets an
 * object of its own, keyed by what it is. A write's objects go out `concurrency` at a time.
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
      addTo(groups, key, r);
    }
    const puts: (() => Promise<void>)[] = [];
    for (const [key, rows] of groups) puts.push(() => this.putRows(key, rows));
    const pipeline = encodeURIComponent(origin?.pipeline ?? results[0]?.pipeline ?? 'unknown');
    const parts = new Map<string, Transition[]>();
    for (const t of transitions) {
      if (t.part) {
        addTo(
          parts,
          `${this.prefix}/${pipeline}/transitions/${source}/seq-${seqDigits(t.part.from)}-${seqDigits(t.part.to)}.jsonl.gz`,
          t,
        );
        continue;
      }
      // Not grouped: one small object, keyed by what it is (a replay rewrites the same key).
      const key = `${this.prefix}/${pipeline}/transitions/${encodeURIComponent(t.machine)}/${encodeURIComponent(t.seriesKey)}/${t.atMs}-${encodeURIComponent(t.from)}-${encodeURIComponent(t.to)}.json`;
      puts.push(() => this.blobs.put(key, Buffer.from(JSON.stringify(t))));
    }
    for (const [key, part] of parts) puts.push(() => this.putTransitions(key, part));
    await inLanes(puts, this.opts.concurrency);
  }

  /** One part of a partition's transitions, in sequence order, as gzipped JSON Lines. */
  private async putTransitions(key: string, part: Transition[]): Promise<void> {
    const { from, to } = part[0]!.part!;
    if (part.length !== to - from)
      throw new RangeError(
        `transitions ${from}..${to} handed over with ${part.length} of them (parts are whole)`,
      );
    part.sort((a, b) => a.seq! - b.seq!);
    const lines = part.map((t) =>
      JSON.stringify({
        seq: t.seq,
        machine: t.machine,
        seriesKey: t.seriesKey,
        keyValues: t.keyValues,
        from: t.from,
        to: t.to,
        at: new Date(t.atMs).toISOString(),
        atMs: t.atMs,
        cause: t.cause,
      }),
    );
    await this.blobs.put(key, await gzipAsync(`${lines.join('\n')}\n`));
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

/** Adds `item` to the group of `key` (an object's lines). */
function addTo<T>(groups: Map<string, T[]>, key: string, item: T): void {
  const g = groups.get(key);
  if (g) g.push(item);
  else groups.set(key, [item]);
}

/** A transition number in a key: 12 digits, so keys sort in sequence order. */
function seqDigits(n: number): string {
  return String(n).padStart(12, '0');
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
