import { DAY_MS, HOUR_MS, MINUTE_MS, SeriesError } from './series-types.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS, w: 7 * DAY_MS };

/** Parses durations like `5m`, `1h`, `24h`, `7d`, `30s`, `1w` into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/.exec(text);
  const unit = m?.[2] ? UNIT_MS[m[2]] : undefined;
  const ms = m?.[1] && unit ? Number(m[1]) * unit : Number.NaN;
  if (!Number.isFinite(ms) || ms <= 0 || !Number.isInteger(ms))
    throw new SeriesError(
      'BAD_DURATION',
      `duration "${text}" is not valid: use a positive number and a unit s, m, h, d or w (e.g. 5m, 1h, 24h, 7d)`,
      undefined,
      text,
    );
  return ms;
}

/** Formats milliseconds as the largest whole unit: 300000 → `5m`, 86400000 → `1d`. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', DAY_MS],
    ['h', HOUR_MS],
    ['m', MINUTE_MS],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
