/** Accumulates forecast-error metrics over backtest origins. */
export interface ModelMetrics {
  /** Mean absolute error, in the series' units. */
  mae: number | null;
  /** Mean over origins of MAE / (in-sample MAE of the daily seasonal naive before the origin). */
  mase: number | null;
  /** Symmetric MAPE in percent (terms where actual and forecast are both 0 are skipped). */
  smape: number | null;
  /** MAPE in percent; null when some actual is 0 (undefined there). */
  mape: number | null;
  /** Mean pinball loss of the lower and upper quantiles, divided by the same scale as MASE. */
  pinball: number | null;
  /** Share of actuals inside [lower, upper] (intervals from the other origins' residuals). */
  coverage: number | null;
}

/** In-sample MAE of y(t) − y(t − lag) over the last `window` steps of `history`. */
export function naiveScale(history: Float64Array, lag: number, window: number): number {
  const n = history.length;
  const from = Math.max(lag, n - window);
  let s = 0;
  for (let t = from; t < n; t++) s += Math.abs((history[t] ?? 0) - (history[t - lag] ?? 0));
  return n > from ? s / (n - from) : 0;
}

/** Pinball (quantile) loss of forecast quantile `q` at level `p` for actual `y`. */
export function pinball(y: number, q: number, p: number): number {
  return y >= q ? p * (y - q) : (1 - p) * (q - y);
}

/** Running sums for one model across origins. */
export class MetricsAccumulator {
  private maeSum = 0;
  private maeN = 0;
  private maseSum = 0;
  private maseN = 0;
  private smapeSum = 0;
  private smapeN = 0;
  private mapeSum = 0;
  private mapeN = 0;
  private mapeUndefined = false;
  private pinSum = 0;
  private pinN = 0;
  private covIn = 0;
  private covN = 0;

  /** Adds one origin's point forecast against its actuals. */
  addPoints(actual: ArrayLike<number>, forecast: ArrayLike<number>, scale: number): void {
    let abs = 0;
    for (let h = 0; h < actual.length; h++) {
      const y = actual[h] ?? 0;
      const f = forecast[h] ?? 0;
      const e = Math.abs(y - f);
      abs += e;
      const denom = Math.abs(y) + Math.abs(f);
      if (denom > 0) {
        this.smapeSum += (200 * e) / denom;
        this.smapeN++;
      }
      if (y === 0) this.mapeUndefined = true;
      else {
        this.mapeSum += (100 * e) / Math.abs(y);
        this.mapeN++;
      }
    }
    this.maeSum += abs;
    this.maeN += actual.length;
    if (scale > 0 && actual.length > 0) {
      this.maseSum += abs / actual.length / scale;
      this.maseN++;
    }
  }

  /** Adds one origin's interval against its actuals. */
  addInterval(
    actual: ArrayLike<number>,
    lower: ArrayLike<number>,
    upper: ArrayLike<number>,
    pLow: number,
    scale: number,
  ): void {
    for (let h = 0; h < actual.length; h++) {
      const y = actual[h] ?? 0;
      const lo = lower[h] ?? 0;
      const hi = upper[h] ?? 0;
      if (y >= lo && y <= hi) this.covIn++;
      this.covN++;
      if (scale > 0) {
        this.pinSum += (pinball(y, lo, pLow) + pinball(y, hi, 1 - pLow)) / 2 / scale;
        this.pinN++;
      }
    }
  }

  result(): ModelMetrics {
    const avg = (s: number, n: number) => (n > 0 ? s / n : null);
    return {
      mae: avg(this.maeSum, this.maeN),
      mase: avg(this.maseSum, this.maseN),
      smape: avg(this.smapeSum, this.smapeN),
      mape: this.mapeUndefined ? null : avg(this.mapeSum, this.mapeN),
      pinball: avg(this.pinSum, this.pinN),
      coverage: avg(this.covIn, this.covN),
    };
  }
}
