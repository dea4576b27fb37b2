import { quantileSorted } from '../models/robust-stats.js';

/** Horizon steps are pooled into at most this many blocks, so each quantile has enough samples. */
const MAX_BLOCKS = 12;

/** Lower and upper residual quantile per horizon step. */
export interface ResidualBands {
  lower: Float64Array;
  upper: Float64Array;
}

/**
 * Residual quantiles per horizon step from backtest residuals (`residuals[origin][step]` =
 * actual − forecast). Steps are pooled in contiguous blocks (≤ 12 per horizon) because a handful
 * of origins gives too few samples per single step; errors grow with the step, the blocks keep that.
 * `skip` leaves one origin out (for honest coverage in the backtest).
 */
export function residualBands(
  residuals: Float64Array[],
  horizon: number,
  pLow: number,
  skip = -1,
): ResidualBands {
  const blocks = Math.min(MAX_BLOCKS, horizon);
  const lower = new Float64Array(horizon);
  const upper = new Float64Array(horizon);
  for (let b = 0; b < blocks; b++) {
    const from = Math.floor((b * horizon) / blocks);
    const to = Math.floor(((b + 1) * horizon) / blocks);
    const pool: number[] = [];
    residuals.forEach((r, k) => {
      if (k === skip) return;
      for (let h = from; h < to; h++) pool.push(r[h] ?? 0);
    });
    pool.sort((x, y) => x - y);
    const lo = pool.length > 0 ? quantileSorted(pool, pLow) : 0;
    const hi = pool.length > 0 ? quantileSorted(pool, 1 - pLow) : 0;
    for (let h = from; h < to; h++) {
      lower[h] = Math.min(0, lo);
      upper[h] = Math.max(0, hi);
    }
  }
  return { lower, upper };
}

/**
 * Fallback bands when no backtest is possible: quantiles of the daily (or one-step) changes in
 * the history, widened with √step for the one-step case.
 */
export function naiveBands(history: Float64Array, lag: number, horizon: number, pLow: number): ResidualBands {
  const diffs: number[] = [];
  for (let t = lag; t < history.length; t++) diffs.push((history[t] ?? 0) - (history[t - lag] ?? 0));
  diffs.sort((x, y) => x - y);
  const lo = quantileSorted(diffs, pLow);
  const hi = quantileSorted(diffs, 1 - pLow);
  const lower = new Float64Array(horizon);
  const upper = new Float64Array(horizon);
  for (let h = 0; h < horizon; h++) {
    const widen = lag === 1 ? Math.sqrt(h + 1) : 1;
    lower[h] = Math.min(0, lo) * widen;
    upper[h] = Math.max(0, hi) * widen;
  }
  return { lower, upper };
}
