import { formatDuration } from './duration.js';
import {
  DAY_MS,
  HOUR_MS,
  type RawSeries,
  type RegularSeries,
  type ResampleReport,
  SeriesError,
  WEEK_MS,
} from './series-types.js';

export interface ResampleOptions {
  /** Bucket width; inferred as the median spacing (rounded to a divisor of a day) when absent. */
  intervalMs?: number;
  /** `sum` for counts (several points in a bucket add up), `mean` for gauges. */
  agg: 'sum' | 'mean';
}

/** Intervals that divide a day, for rounding an inferred spacing (irregular seconds, jitter). */
const NICE_INTERVALS_MS = [
  1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 14400, 21600, 28800, 43200,
  86400,
].map((s) => s * 1000);

/** Gaps up to this long are interpolated linearly; longer ones copy the value a week (or day) earlier. */
const INTERPOLATE_UP_TO_MS = 2 * HOUR_MS;
/** More empty buckets than this share means the interval is finer than the data. */
const MAX_EMPTY_SHARE = 0.5;

/**
 * Puts a raw series on a regular grid aligned to multiples of the interval since the epoch
 * (so hourly buckets start on the hour and daily ones at UTC midnight).
 *
 * Points in one bucket (including repeated timestamps) are merged by `agg`. Empty buckets are
 * filled — linear interpolation for short gaps, the value one week (else one day) earlier for
 * long ones — and counted in the report; values are never NaN. Throws `SeriesError`
 * `BAD_INTERVAL` when the interval does not divide a day or is so much finer than the data
 * that most buckets would be invented.
 */
export function resample(raw: RawSeries, opts: ResampleOptions): RegularSeries {
  const ts = raw.timestampsMs;
  const n = ts.length;
  if (n === 0 || raw.values.length !== n)
    throw new SeriesError(
      'EMPTY_SERIES',
      'the series has no points (or timestamps and values differ in length)',
    );
  const first = ts[0] ?? 0;
  for (let i = 1; i < n; i++)
    if ((ts[i] ?? 0) < (ts[i - 1] ?? 0))
      throw new SeriesError('BAD_TIMESTAMP', `timestamps are not sorted at index ${i}: sort them first`);
  const spacing = medianSpacing(ts);
  const intervalInferred = opts.intervalMs === undefined;
  const intervalMs = opts.intervalMs ?? inferInterval(spacing);
  if (!Number.isInteger(intervalMs) || intervalMs <= 0 || DAY_MS % intervalMs !== 0)
    throw new SeriesError(
      'BAD_INTERVAL',
      `interval ${formatDuration(intervalMs)} does not divide a day: daily and weekly seasons need an interval such as 5m, 15m or 1h`,
      undefined,
      String(intervalMs),
    );
  const startMs = Math.floor(first / intervalMs) * intervalMs;
  const buckets = Math.floor(((ts[n - 1] ?? first) - startMs) / intervalMs) + 1;
  const sums = new Float64Array(buckets);
  const counts = new Uint32Array(buckets);
  let duplicates = 0;
  for (let i = 0; i < n; i++) {
    const t = ts[i] ?? 0;
    if (i > 0 && t === ts[i - 1]) duplicates++;
    const b = Math.floor((t - startMs) / intervalMs);
    sums[b] = (sums[b] ?? 0) + (raw.values[i] ?? 0);
    counts[b] = (counts[b] ?? 0) + 1;
  }
  let empty = 0;
  for (let b = 0; b < buckets; b++) if (counts[b] === 0) empty++;
  if (buckets > 10 && empty / buckets > MAX_EMPTY_SHARE)
    throw new SeriesError(
      'BAD_INTERVAL',
      `interval ${formatDuration(intervalMs)} is finer than the data (median spacing ${formatDuration(spacing)}): ` +
        `${Math.round((100 * empty) / buckets)}% of buckets would be empty; use --interval ${formatDuration(inferInterval(spacing))} or coarser`,
      undefined,
      String(intervalMs),
    );
  const values = new Array<number>(buckets);
  const known = new Uint8Array(buckets);
  for (let b = 0; b < buckets; b++) {
    const c = counts[b] ?? 0;
    if (c > 0) {
      values[b] = opts.agg === 'sum' ? (sums[b] ?? 0) : (sums[b] ?? 0) / c;
      known[b] = 1;
    } else values[b] = 0;
  }
  const report: ResampleReport = {
    inputPoints: n,
    gapsFilled: empty,
    duplicates,
    outOfOrder: raw.outOfOrder ?? 0,
    intervalInferred,
    longestGapSteps: 0,
    gaps: [],
  };
  fillGaps(values, known, intervalMs, startMs, report);
  return { startMs, intervalMs, values, report };
}

function fillGaps(
  values: number[],
  known: Uint8Array,
  intervalMs: number,
  startMs: number,
  report: ResampleReport,
): void {
  const week = WEEK_MS / intervalMs;
  const day = DAY_MS / intervalMs;
  let b = 0;
  while (b < values.length) {
    if (known[b]) {
      b++;
      continue;
    }
    let end = b;
    while (end < values.length && !known[end]) end++;
    const steps = end - b;
    report.longestGapSteps = Math.max(report.longestGapSteps, steps);
    if (report.gaps.length < 20) report.gaps.push({ startMs: startMs + b * intervalMs, steps });
    const before = values[b - 1] ?? 0;
    const after = values[end] ?? before;
    for (let i = b; i < end; i++) {
      const lag = steps * intervalMs > INTERPOLATE_UP_TO_MS ? [week, day].find((l) => i - l >= 0) : undefined;
      // Long gaps copy the same time a season earlier (already filled if it was a gap too).
      values[i] =
        lag !== undefined
          ? (values[i - lag] ?? before)
          : before + ((after - before) * (i - b + 1)) / (steps + 1);
    }
    b = end;
  }
}

/** Median of the positive spacings between consecutive timestamps (repeats ignored). */
export function medianSpacing(ts: number[]): number {
  const d: number[] = [];
  for (let i = 1; i < ts.length; i++) {
    const s = (ts[i] ?? 0) - (ts[i - 1] ?? 0);
    if (s > 0) d.push(s);
  }
  if (d.length === 0) return HOUR_MS;
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)] ?? HOUR_MS;
}

/** The divisor of a day nearest (in ratio) to the spacing. */
function inferInterval(spacingMs: number): number {
  let best = HOUR_MS;
  let bestDist = Number.POSITIVE_INFINITY;
  for (const c of NICE_INTERVALS_MS) {
    const dist = Math.abs(Math.log(c / spacingMs));
    if (dist < bestDist) {
      best = c;
      bestDist = dist;
    }
  }
  return best;
}
