/** A weighted sample. */
export interface WeightedSample {
  value: number;
  weight: number;
}

/** Weighted median: the value below which half the weight lies. Robust to a few outlier windows. */
export function weightedMedian(samples: readonly WeightedSample[]): number | undefined {
  const xs = samples
    .filter((s) => s.weight > 0 && Number.isFinite(s.value))
    .sort((a, b) => a.value - b.value);
  const total = xs.reduce((a, s) => a + s.weight, 0);
  if (total <= 0) return undefined;
  let acc = 0;
  for (const s of xs) {
    acc += s.weight;
    if (acc >= total / 2) return s.value;
  }
  return xs[xs.length - 1]?.value;
}

/** The q-quantile (0..1) by nearest rank. */
export function quantile(values: readonly number[], q: number): number | undefined {
  const xs = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const rank = Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1));
  return xs[rank];
}

/** Appends to a bounded window, dropping the oldest. */
export function pushBounded<T>(window: readonly T[], item: T, max: number): T[] {
  const out = [...window, item];
  return out.length > max ? out.slice(out.length - max) : out;
}
