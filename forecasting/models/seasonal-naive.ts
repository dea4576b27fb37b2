import type { ForecastModel, Seasons } from './model-types.js';
import { medianInPlace, seasonalMedianProfile } from './robust-stats.js';

function naive(name: string, description: string, lagOf: (s: Seasons) => number): ForecastModel {
  return {
    name,
    description,
    minHistory: lagOf,
    predict(history, horizon, seasons) {
      const lag = lagOf(seasons);
      const n = history.length;
      const out = new Float64Array(horizon);
      // The same slot one season earlier, repeating the last observed season beyond one lag.
      for (let h = 0; h < horizon; h++) out[h] = history[n - lag + (h % lag)] ?? 0;
      return out;
    },
  };
}

/** y(t) = y(t − 1 week): the baseline every model must beat. */
export const seasonalNaiveWeekly = naive(
  'seasonal-naive-weekly',
  'same time one week earlier (baseline)',
  (s) => s.week,
);

/** y(t) = y(t − 1 day). */
export const seasonalNaiveDaily = naive('seasonal-naive-daily', 'same time one day earlier', (s) => s.day);

/** Weeks the blend takes the median over. */
const BLEND_WEEKS = 4;

/**
 * Median of the same slot over the last (up to) four weeks, shifted by a level correction: the
 * median over the last day of (actual − that day's blended profile). The median keeps one bad
 * week (an outage, a holiday) out; the correction follows a level that moved since.
 */
export const seasonalNaiveBlend: ForecastModel = {
  name: 'seasonal-naive-blend',
  description: 'median of the same slot over the last 4 weeks plus a robust level correction',
  minHistory: (s) => s.week + s.day,
  predict(history, horizon, seasons) {
    const { week, day } = seasons;
    const n = history.length;
    const weeks = Math.min(BLEND_WEEKS, Math.floor(n / week));
    // Profile ending one day before the end so the last day is out of sample for the correction.
    const past = seasonalMedianProfile(history, n - day, week, weeks);
    const resid = new Float64Array(day);
    for (let i = 0; i < day; i++) resid[i] = (history[n - day + i] ?? 0) - (past[i] ?? 0);
    const level = medianInPlace(resid);
    const profile = seasonalMedianProfile(history, n, week, weeks);
    const out = new Float64Array(horizon);
    for (let h = 0; h < horizon; h++) out[h] = (profile[h % week] ?? 0) + level;
    return out;
  },
};

/** Bounds on the multiplicative level correction: one odd day must not double or halve a week. */
const RATIO_BOUNDS = [0.5, 2] as const;

/**
 * Like the blend, with a multiplicative correction: (sum of the last day) / (sum of its blended
 * profile), bounded to [0.5, 2]. Fits loads whose daily swing scales with the level (rentals,
 * traffic), where an additive shift would lift the night as much as the peak.
 */
export const seasonalNaiveBlendRatio: ForecastModel = {
  name: 'seasonal-naive-blend-ratio',
  description: 'median of the same slot over the last 4 weeks times a bounded level ratio',
  minHistory: (s) => s.week + s.day,
  predict(history, horizon, seasons) {
    const { week, day } = seasons;
    const n = history.length;
    const weeks = Math.min(BLEND_WEEKS, Math.floor(n / week));
    const past = seasonalMedianProfile(history, n - day, week, weeks);
    let actual = 0;
    let expected = 0;
    for (let i = 0; i < day; i++) {
      actual += history[n - day + i] ?? 0;
      expected += past[i] ?? 0;
    }
    const ratio =
      actual > 0 && expected > 0
        ? Math.min(RATIO_BOUNDS[1], Math.max(RATIO_BOUNDS[0], actual / expected))
        : 1;
    const profile = seasonalMedianProfile(history, n, week, weeks);
    const out = new Float64Array(horizon);
    for (let h = 0; h < horizon; h++) out[h] = (profile[h % week] ?? 0) * ratio;
    return out;
  },
};
