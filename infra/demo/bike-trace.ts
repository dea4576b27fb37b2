import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTimeSeriesCsv } from '../../forecasting/series/parse-csv.js';
import { resample } from '../../forecasting/series/resample.js';
import { HOUR_MS, type RegularSeries } from '../../forecasting/series/series-types.js';
import { projectRoot } from '../local/paths.js';

/** The shipped slice of the UCI Bike Sharing Dataset (CC BY 4.0, see examples/demo/DATA-CREDIT.md). */
export const BIKE_SLICE = join('examples', 'demo', 'bike_sharing_hourly_slice.csv');

/** A day to replay and the history before it (for the forecast). */
export interface DemoTrace {
  /** Hourly counts before the replayed day. */
  history: RegularSeries;
  /** Start of the replayed day in trace time, epoch ms. */
  dayStartMs: number;
  /** The replayed day's 24 hourly counts. */
  day: number[];
}

/** Reads the shipped hourly trace; its last 24 hours are replayed, the rest is history. */
export async function loadDemoTrace(file = join(projectRoot(), BIKE_SLICE)): Promise<DemoTrace> {
  const series = resample(parseTimeSeriesCsv(await readFile(file, 'utf8')), {
    intervalMs: HOUR_MS,
    agg: 'sum',
  });
  const n = series.values.length;
  if (n < 48) throw new Error(`${file}: needs at least two days of hourly rows, has ${n}`);
  return {
    history: { ...series, values: series.values.slice(0, n - 24) },
    dayStartMs: series.startMs + (n - 24) * HOUR_MS,
    day: series.values.slice(n - 24),
  };
}

/** Maps trace time to wall time with a day compressed into `dayMs`, starting at `wallStartMs`. */
export interface TimeCompression {
  wallStartMs: number;
  traceStartMs: number;
  /** Wall ms per trace hour. */
  msPerHour: number;
  /** records/s = hourly count × scale. */
  scale: number;
}

/** The trace's input rate (records/s) at a wall time: hourly counts × scale, linear between hours, looping daily. */
export function rateAt(day: readonly number[], c: TimeCompression, wallMs: number): number {
  const hours = Math.max(0, (wallMs - c.wallStartMs) / c.msPerHour) % day.length;
  const i = Math.floor(hours);
  const a = day[i] ?? 0;
  const b = day[(i + 1) % day.length] ?? a;
  return (a + (b - a) * (hours - i)) * c.scale;
}
