import { median } from 'simple-statistics';
import type { ForecastModel } from './model-types.js';
import { medianInPlace, seasonalMedianProfile, smoothCircular } from './robust-stats.js';

/** Weeks of history the profile and trend come from. */
const FIT_WEEKS = 8;
/** Daily medians needed before a trend is fitted at all. */
const MIN_TREND_DAYS = 14;

/**
 * Robust decomposition: level + long-term trend + seasonal profile, all from medians.
 *
 * - Trend: Theil–Sen slope (median of pairwise slopes, via simple-statistics) through the daily
 *   medians of the last 8 weeks; outliers and holidays move a median of slopes very little.
 * - Profile: per slot of the week, the median of the detrended values over those weeks (per slot
 *   of the day while there are fewer than two weeks), smoothed over ±15 minutes on fine grids so
 *   5-minute noise is not copied into the forecast.
 * - Level: the median over the last day of (actual − profile), so a recent shift carries on.
 */
export const decomposition: ForecastModel = {
  name: 'decomposition',
  description: 'robust seasonal profile (medians per slot) + Theil–Sen trend + level correction',
  minHistory: (s) => 2 * s.day,
  predict(history, horizon, seasons) {
    const { day, week } = seasons;
    const x = history.subarray(Math.max(0, history.length - FIT_WEEKS * week));
    const n = x.length;
    const days = Math.floor(n / day);
    const slopePerDay = days >= MIN_TREND_DAYS ? theilSenDaily(x, day, days) : 0;
    // Detrend relative to the end so the profile sits at today's level.
    const detrended = new Float64Array(n);
    for (let t = 0; t < n; t++) detrended[t] = (x[t] ?? 0) - (slopePerDay * (t - n + 1)) / day;
    const weekly = n >= 2 * week;
    const period = weekly ? week : day;
    const cycles = Math.floor(n / period);
    const half = Math.max(0, Math.round(day / 96));
    const profile = smoothCircular(seasonalMedianProfile(detrended, n, period, cycles), half);
    const resid = new Float64Array(day);
    for (let i = 0; i < day; i++) {
      const t = n - day + i;
      resid[i] = (detrended[t] ?? 0) - (profile[t - (n - period)] ?? 0);
    }
    const level = medianInPlace(resid);
    const out = new Float64Array(horizon);
    for (let h = 0; h < horizon; h++)
      out[h] = (profile[h % period] ?? 0) + level + (slopePerDay * (h + 1)) / day;
    return out;
  },
};

/** Theil–Sen slope per day through the medians of the last `days` whole days. */
function theilSenDaily(x: Float64Array, day: number, days: number): number {
  const n = x.length;
  const meds: number[] = [];
  for (let d = days; d >= 1; d--) meds.push(medianInPlace(x.slice(n - d * day, n - (d - 1) * day)));
  const slopes: number[] = [];
  // Pairs a whole number of weeks apart, so the weekday pattern cancels out of every slope.
  for (let i = 0; i < meds.length; i++)
    for (let j = i + 7; j < meds.length; j += 7) slopes.push(((meds[j] ?? 0) - (meds[i] ?? 0)) / (j - i));
  return slopes.length > 0 ? median(slopes) : 0;
}
