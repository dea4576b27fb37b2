/** Median of the first `len` values of a scratch array (reordered in place). */
export function medianInPlace(xs: Float64Array | number[], len = xs.length): number {
  if (len === 0) return 0;
  const mid = len >> 1;
  const hi = select(xs, len, mid);
  if (len % 2) return hi;
  // The lower middle is the largest value left of `mid` after selection.
  let lo = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < mid; i++) if ((xs[i] ?? 0) > lo) lo = xs[i] ?? 0;
  return (lo + hi) / 2;
}

/** Quickselect (Hoare partition): puts the k-th smallest of xs[0..len) at k and returns it. */
function select(xs: Float64Array | number[], len: number, k: number): number {
  let left = 0;
  let right = len - 1;
  while (right > left) {
    const pivot = xs[(left + right) >> 1] ?? 0;
    let i = left;
    let j = right;
    while (i <= j) {
      while ((xs[i] ?? 0) < pivot) i++;
      while ((xs[j] ?? 0) > pivot) j--;
      if (i <= j) {
        const t = xs[i] ?? 0;
        xs[i] = xs[j] ?? 0;
        xs[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return xs[k] ?? 0;
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
