import type { Seasons } from './model-types.js';
import { medianInPlace, seasonalMedianProfile } from './robust-stats.js';

/** Residuals beyond this many robust standard deviations are clipped. */
const CLIP_SIGMAS = 5;

/**
 * Returns a copy of `x` where values far from their seasonal median (per slot of the week with two
 * weeks or more, else per slot of the day) are pulled back to median ± 5σ, σ = 1.4826 · MAD of
 * the residuals. Keeps spikes and outages from poisoning non-robust fits (Holt-Winters).
 */
export function clipOutliers(x: Float64Array, seasons: Seasons): { values: Float64Array; clipped: number } {
  // Both Holt-Winters models clip the same window at each backtest origin: remember the last one.
  const sum = checksum(x);
  if (
    last &&
    last.buffer === x.buffer &&
    last.offset === x.byteOffset &&
    last.length === x.length &&
    last.sum === sum &&
    last.week === seasons.week
  )
    return last.output;
  const output = computeClip(x, seasons);
  last = { buffer: x.buffer, offset: x.byteOffset, length: x.length, sum, week: seasons.week, output };
  return output;
}

let last:
  | {
      buffer: ArrayBufferLike;
      offset: number;
      length: number;
      sum: number;
      week: number;
      output: { values: Float64Array; clipped: number };
    }
  | undefined;

function checksum(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] ?? 0) * ((i % 7) + 1);
  return s;
}

function computeClip(x: Float64Array, seasons: Seasons): { values: Float64Array; clipped: number } {
  const n = x.length;
  const period = n >= 2 * seasons.week ? seasons.week : seasons.day;
  const cycles = Math.floor(n / period);
  if (cycles < 2) return { values: x, clipped: 0 };
  const profile = seasonalMedianProfile(x, n, period, cycles);
  const offset = (((n - period) % period) + period) % period;
  const resid = new Float64Array(n);
  for (let t = 0; t < n; t++) resid[t] = (x[t] ?? 0) - (profile[(t - offset + period) % period] ?? 0);
  const abs = new Float64Array(n);
  for (let t = 0; t < n; t++) abs[t] = Math.abs(resid[t] ?? 0);
  const sigma = 1.4826 * medianInPlace(abs);
  if (sigma <= 0) return { values: x, clipped: 0 };
  const out = new Float64Array(x);
  let clipped = 0;
  for (let t = 0; t < n; t++) {
    const r = resid[t] ?? 0;
    if (Math.abs(r) > CLIP_SIGMAS * sigma) {
      out[t] = (x[t] ?? 0) - r + Math.sign(r) * CLIP_SIGMAS * sigma;
      clipped++;
    }
  }
  return { values: out, clipped };
}
