import { clipOutliers } from './clip-outliers.js';
import type { ForecastModel, Seasons } from './model-types.js';

/** Weeks of history the Holt-Winters models fit on (older data adds time, not accuracy). */
const FIT_WEEKS = 5;

interface HwParams {
  alpha: number;
  beta: number;
  gamma: number;
}

const WEEKLY_GRID: HwParams[] = [];
for (const alpha of [0.02, 0.1, 0.3])
  for (const gamma of [0.05, 0.2]) WEEKLY_GRID.push({ alpha, beta: 0.001, gamma });

/**
 * Additive Holt-Winters with a weekly season, in error-correction form:
 *   ŷ = l + b + s[t mod W],  e = y − ŷ,  l ← l + b + αe,  b ← b + αβe,  s[t mod W] ← s + γe.
 * Initialised from the first one or two weeks (trend from the difference of their means), so a
 * series that is exactly level + trend + weekly season is forecast exactly. Smoothing weights are
 * picked from a small grid by in-sample one-step squared error.
 */
export const holtWintersWeekly: ForecastModel = {
  name: 'holt-winters-weekly',
  description: 'additive Holt-Winters, weekly season, grid-fitted smoothing',
  minHistory: (s) => s.week + s.day,
  predict(history, horizon, seasons) {
    const x = clipOutliers(
      history.subarray(Math.max(0, history.length - FIT_WEEKS * seasons.week)),
      seasons,
    ).values;
    let best: Float64Array | undefined;
    let bestSse = Number.POSITIVE_INFINITY;
    for (const p of WEEKLY_GRID) {
      const run = runWeekly(x, seasons.week, p, horizon);
      if (run.sse < bestSse) {
        bestSse = run.sse;
        best = run.forecast;
      }
    }
    return best ?? new Float64Array(horizon);
  },
};

function runWeekly(
  x: Float64Array,
  week: number,
  p: HwParams,
  horizon: number,
): { sse: number; forecast: Float64Array } {
  const n = x.length;
  const m1 = meanOf(x, 0, week);
  const twoWeeks = n >= 2 * week;
  const b0 = twoWeeks ? (meanOf(x, week, 2 * week) - m1) / week : 0;
  const season = new Float64Array(week);
  for (let i = 0; i < week; i++) season[i] = (x[i] ?? 0) - (m1 + b0 * (i - (week - 1) / 2));
  let level = m1 + (b0 * (week - 1)) / 2;
  let trend = b0;
  let sse = 0;
  for (let t = week; t < n; t++) {
    const j = t % week;
    const s = season[j] ?? 0;
    const e = (x[t] ?? 0) - (level + trend + s);
    sse += e * e;
    level = level + trend + p.alpha * e;
    trend = trend + p.alpha * p.beta * e;
    season[j] = s + p.gamma * e;
  }
  const forecast = new Float64Array(horizon);
  for (let h = 0; h < horizon; h++) forecast[h] = level + trend * (h + 1) + (season[(n + h) % week] ?? 0);
  return { sse, forecast };
}

const DOUBLE_GRID: { alpha: number; delta: number; omega: number }[] = [];
for (const alpha of [0.02, 0.1, 0.3])
  for (const [delta, omega] of [
    [0.02, 0.05],
    [0.1, 0.2],
  ] as const)
    DOUBLE_GRID.push({ alpha, delta, omega });

/**
 * Double-seasonal additive Holt-Winters (Taylor 2003) without trend:
 *   ŷ = l + d[t mod D] + w[t mod W],  e = y − ŷ,  l += αe,  d += δe,  w += ωe.
 * The daily season learns fast from every day; the weekly one only corrects what differs by
 * weekday, so one week of history is enough to start.
 */
export const holtWintersDouble: ForecastModel = {
  name: 'holt-winters-double',
  description: 'double-seasonal (daily + weekly) additive Holt-Winters',
  minHistory: (s) => s.week + s.day,
  predict(history, horizon, seasons) {
    const x = clipOutliers(
      history.subarray(Math.max(0, history.length - FIT_WEEKS * seasons.week)),
      seasons,
    ).values;
    let best: Float64Array | undefined;
    let bestSse = Number.POSITIVE_INFINITY;
    for (const p of DOUBLE_GRID) {
      const run = runDouble(x, seasons, p.alpha, p.delta, p.omega, horizon);
      if (run.sse < bestSse) {
        bestSse = run.sse;
        best = run.forecast;
      }
    }
    return best ?? new Float64Array(horizon);
  },
};

function runDouble(
  x: Float64Array,
  { day, week }: Seasons,
  alpha: number,
  delta: number,
  omega: number,
  horizon: number,
): { sse: number; forecast: Float64Array } {
  const n = x.length;
  let level = meanOf(x, 0, week);
  const daily = new Float64Array(day);
  for (let i = 0; i < week; i++) daily[i % day] = (daily[i % day] ?? 0) + ((x[i] ?? 0) - level) / 7;
  const weekly = new Float64Array(week);
  for (let i = 0; i < week; i++) weekly[i] = (x[i] ?? 0) - level - (daily[i % day] ?? 0);
  let sse = 0;
  for (let t = week; t < n; t++) {
    const jd = t % day;
    const jw = t % week;
    const e = (x[t] ?? 0) - (level + (daily[jd] ?? 0) + (weekly[jw] ?? 0));
    sse += e * e;
    level += alpha * e;
    daily[jd] = (daily[jd] ?? 0) + delta * e;
    weekly[jw] = (weekly[jw] ?? 0) + omega * e;
  }
  const forecast = new Float64Array(horizon);
  for (let h = 0; h < horizon; h++)
    forecast[h] = level + (daily[(n + h) % day] ?? 0) + (weekly[(n + h) % week] ?? 0);
  return { sse, forecast };
}

function meanOf(x: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] ?? 0;
  return to > from ? s / (to - from) : 0;
}
