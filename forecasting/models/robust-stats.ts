/** Median of the first `len` values of a scratch array (sorted in place). */
export function medianInPlace(xs: Float64Array | number[], len = xs.length): number {
  if (len === 0) return 0;
  const a = xs.length === len ? xs : xs.slice(0, len);
  if (a instanceof Float64Array) a.sort();
  else a.sort((x, y) => x - y);
  const mid = len >> 1;
  return len % 2 ? (a[mid] ?? 0) : ((a[mid - 1] ?? 0) + (a[mid] ?? 0)) / 2;
}

/** Median of a copy. */
export function median(xs: ArrayLike<number>): number {
  return medianInPlace(Float64Array.from(xs));
}

/** Quantile p ∈ [0, 1] of sorted values, linear between order statistics. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const pos = (n - 1) * Math.min(1, Math.max(0, p));
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return (sorted[lo] ?? 0) + ((sorted[hi] ?? 0) - (sorted[lo] ?? 0)) * (pos - lo);
}

/** Circular centered moving average of half-width `half` (0 leaves the profile as is). */
export function smoothCircular(profile: Float64Array, half: number): Float64Array {
  if (half <= 0 || profile.length <= 2 * half) return profile;
  const n = profile.length;
  const out = new Float64Array(n);
  let sum = 0;
  for (let k = -half; k <= half; k++) sum += profile[(k + n) % n] ?? 0;
  for (let i = 0; i < n; i++) {
    out[i] = sum / (2 * half + 1);
    sum += (profile[(i + half + 1) % n] ?? 0) - (profile[(i - half + n) % n] ?? 0);
  }
  return out;
}

/**
 * Median per slot of a season: slot j of a `period`-long profile ending at `end` is the median of
 * x[end - period + j - k·period] over the last `cycles` cycles that exist.
 */
export function seasonalMedianProfile(
  x: Float64Array,
  end: number,
  period: number,
  cycles: number,
): Float64Array {
  const profile = new Float64Array(period);
  const scratch = new Float64Array(cycles);
  for (let j = 0; j < period; j++) {
    let len = 0;
    for (let k = 0; k < cycles; k++) {
      const i = end - period + j - k * period;
      if (i < 0) break;
      scratch[len++] = x[i] ?? 0;
    }
    profile[j] = medianInPlace(scratch, len);
  }
  return profile;
}
