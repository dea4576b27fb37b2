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
 * `residualBands` with each origin left out in turn (bands[k] leaves origin k out), for honest
 * backtest coverage. Sorts each block's pool once and reads the quantiles of every fold from it.
 */
export function leaveOneOutBands(residuals: Float64Array[], horizon: number, pLow: number): ResidualBands[] {
  const folds = residuals.length;
  if (folds <= 1) return residuals.map(() => residualBands(residuals, horizon, pLow));
  const out = residuals.map(() => ({ lower: new Float64Array(horizon), upper: new Float64Array(horizon) }));
  const blocks = Math.min(MAX_BLOCKS, horizon);
  for (let b = 0; b < blocks; b++) {
    const from = Math.floor((b * horizon) / blocks);
    const to = Math.floor(((b + 1) * horizon) / blocks);
    const width = to - from;
    const size = width * folds;
    const vals = new Float64Array(size);
    const owner = new Int32Array(size);
    let i = 0;
    residuals.forEach((r, k) => {
      for (let h = from; h < to; h++) {
        vals[i] = r[h] ?? 0;
        owner[i++] = k;
      }
    });
    const order = Array.from({ length: size }, (_, j) => j).sort((x, y) => (vals[x] ?? 0) - (vals[y] ?? 0));
    const kept = size - width;
    for (let k = 0; k < folds; k++) {
      const lo = rankValue(order, vals, owner, k, (kept - 1) * pLow);
      const hi = rankValue(order, vals, owner, k, (kept - 1) * (1 - pLow));
      const band = out[k];
      if (!band) continue;
      band.lower.fill(Math.min(0, lo), from, to);
      band.upper.fill(Math.max(0, hi), from, to);
    }
  }
  return out;
}

/** The value at fractional rank `pos` among the sorted values not owned by `skip` (linear between ranks). */
function rankValue(
  order: number[],
  vals: Float64Array,
  owner: Int32Array,
  skip: number,
  pos: number,
): number {
  const lo = Math.floor(pos);
  let rank = -1;
  let below = 0;
  for (const j of order) {
    if (owner[j] === skip) continue;
    rank++;
    const v = vals[j] ?? 0;
    if (rank === lo) below = v;
    if (rank === lo + 1) return below + (v - below) * (pos - lo);
  }
  return below;
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
