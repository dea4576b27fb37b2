import type { Client } from 'cassandra-driver';

/** The sink's output against an independent count of the input. */
export interface NoLossResult {
  /** Records counted in the sink's windows (the sum of per-window counts). */
  recordsAggregated: number;
  /** Records produced but missing from the sink (per series and window). */
  lost: number;
  /** Records the sink counts more than were produced (per series and window). */
  duplicated: number;
  /** Series-windows compared. */
  windows: number;
}

/** Compares per-(series, window) counts produced with the `count` the sink wrote. */
export function compareCounts(
  produced: ReadonlyMap<string, number>,
  aggregated: ReadonlyMap<string, number>,
): NoLossResult {
  let lost = 0;
  let duplicated = 0;
  let recordsAggregated = 0;
  for (const [key, n] of produced) {
    const got = aggregated.get(key) ?? 0;
    if (got < n) lost += n - got;
    else duplicated += got - n;
  }
  for (const [key, got] of aggregated) {
    recordsAggregated += got;
    if (!produced.has(key)) duplicated += got;
  }
  return {
    recordsAggregated,
    lost,
    duplicated,
    windows: new Set([...produced.keys(), ...aggregated.keys()]).size,
  };
}

/** Reads `count` per `seriesKey|windowStart` of this run's series (prefix `runId-`) from the results table. */
export async function readCounts(
  client: Client,
  keyspace: string,
  table: string,
  runId: string,
  countMetric: string,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  // Every page: `execute` returns one page at a time (autoPage applies only to eachRow/stream), and the table holds
  // earlier runs' rows too, so this run's rows can be anywhere in token order.
  let pageState: string | undefined;
  do {
    const rs = await client.execute(
      `SELECT series_key, window_start, metrics FROM ${keyspace}.${table}`,
      [],
      {
        fetchSize: 5000,
        prepare: false,
        ...(pageState !== undefined ? { pageState } : {}),
      },
    );
    for (const row of rs.rows) {
      const series = row['series_key'] as string;
      if (!series.startsWith(`${runId}-`)) continue;
      const m = row['metrics'] as Record<string, number>;
      out.set(`${series}|${(row['window_start'] as Date).getTime()}`, m[countMetric] ?? 0);
    }
    pageState = rs.pageState ?? undefined;
  } while (pageState);
  return out;
}

/** Where the differences are: per source partition, records lost and duplicated and the windows they fall in. */
export interface DifferenceByPartition {
  partition: number;
  lost: number;
  duplicated: number;
  /** Series-windows that differ. */
  windows: number;
  /** Earliest and latest window start that differs, epoch ms. */
  firstWindowMs: number;
  lastWindowMs: number;
}

/** Groups the per-(series, window) differences by the partition `partitionOf(seriesKey)` names. */
export function differencesByPartition(
  produced: ReadonlyMap<string, number>,
  aggregated: ReadonlyMap<string, number>,
  partitionOf: (seriesKey: string) => number,
): DifferenceByPartition[] {
  const out = new Map<number, DifferenceByPartition>();
  const note = (key: string, lost: number, duplicated: number): void => {
    const bar = key.lastIndexOf('|');
    const partition = partitionOf(key.slice(0, bar));
    const windowMs = Number(key.slice(bar + 1));
    const d = out.get(partition) ?? {
      partition,
      lost: 0,
      duplicated: 0,
      windows: 0,
      firstWindowMs: windowMs,
      lastWindowMs: windowMs,
    };
    d.lost += lost;
    d.duplicated += duplicated;
    d.windows++;
    d.firstWindowMs = Math.min(d.firstWindowMs, windowMs);
    d.lastWindowMs = Math.max(d.lastWindowMs, windowMs);
    out.set(partition, d);
  };
  for (const [key, n] of produced) {
    const got = aggregated.get(key) ?? 0;
    if (got !== n) note(key, Math.max(0, n - got), Math.max(0, got - n));
  }
  for (const [key, got] of aggregated) if (!produced.has(key)) note(key, 0, got);
  return [...out.values()].sort((a, b) => a.partition - b.partition);
}
