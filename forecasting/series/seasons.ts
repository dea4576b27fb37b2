import type { Seasons } from '../models/model-types.js';
import { formatDuration } from './duration.js';
import { DAY_MS, SeriesError } from './series-types.js';

/** Steps per day and week for an interval that divides a day; throws BAD_INTERVAL otherwise. */
export function seasonsFor(intervalMs: number): Seasons {
  if (!Number.isInteger(intervalMs) || intervalMs <= 0 || DAY_MS % intervalMs !== 0)
    throw new SeriesError(
      'BAD_INTERVAL',
      `interval ${formatDuration(intervalMs)} does not divide a day: use e.g. 5m, 15m or 1h`,
      undefined,
      String(intervalMs),
    );
  const day = DAY_MS / intervalMs;
  return { day, week: 7 * day };
}

/** "2016 steps (7d at 5m)". */
export function describeSteps(steps: number, intervalMs: number): string {
  const ms = steps * intervalMs;
  const days = ms / DAY_MS;
  const span = days >= 1 ? `${Number(days.toFixed(1))}d` : formatDuration(ms);
  return `${steps} steps (${span} at ${formatDuration(intervalMs)})`;
}
