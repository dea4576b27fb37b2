import { type Forecast, forecastSeries } from '../../forecasting/forecast.js';
import type { RegularSeries } from '../../forecasting/series/series-types.js';

export interface ForecastRefresherOptions {
  /** Bucket width of the history and the forecast (the trace's interval, at least the step). */
  intervalMs: number;
  refreshMs: number;
  historyMs: number;
  horizonMs: number;
}

let refresherCount = 0;

/**
 * The liveagg policy's view of the future, built only from the past: it records the input rate
 * it observed, bucket by bucket, and every `refreshMs` refits the forecast on the last
 * `historyMs` of complete buckets. Before one day of history exists there is no forecast
 * (forecasting needs a day) and the planner runs reactively.
 */
export class ForecastRefresher {
  /** Names this history for the forecaster, so its model selection is reused as the window slides (redone daily). */
  private readonly seriesKey = `simulated-input:${++refresherCount}`;
  private readonly buckets: number[] = [];
  private firstBucketMs: number | undefined;
  private currentIndex = -1;
  private currentSum = 0;
  private currentCount = 0;
  private lastRefreshMs = Number.NEGATIVE_INFINITY;
  private latest: Forecast | undefined;
  refreshes = 0;
  failures = 0;

  constructor(private readonly opts: ForecastRefresherOptions) {}

  /** Records the input rate measured over the step ending at `nowMs`. */
  observe(nowMs: number, inputRate: number): void {
    const t = nowMs - 1;
    this.firstBucketMs ??= Math.floor(t / this.opts.intervalMs) * this.opts.intervalMs;
    const index = Math.floor((t - this.firstBucketMs) / this.opts.intervalMs);
    if (index !== this.currentIndex) {
      if (this.currentIndex >= 0) this.closeBucket();
      // Steps skipped entirely (none at step ≤ interval) repeat the last value.
      while (this.buckets.length < index) this.buckets.push(this.buckets.at(-1) ?? inputRate);
      this.currentIndex = index;
    }
    this.currentSum += inputRate;
    this.currentCount++;
  }

  /** The forecast to plan with at `nowMs`, refreshed when due. */
  forecastAt(nowMs: number): Forecast | undefined {
    if (nowMs - this.lastRefreshMs < this.opts.refreshMs) return this.latest;
    this.lastRefreshMs = nowMs;
    const keep = Math.max(1, Math.floor(this.opts.historyMs / this.opts.intervalMs));
    const from = Math.max(0, this.buckets.length - keep);
    const values = this.buckets.slice(from);
    const day = 86_400_000 / this.opts.intervalMs;
    if (values.length < day || this.firstBucketMs === undefined) return this.latest;
    const series: RegularSeries = {
      startMs: this.firstBucketMs + from * this.opts.intervalMs,
      intervalMs: this.opts.intervalMs,
      values,
      report: {
        inputPoints: values.length,
        gapsFilled: 0,
        duplicates: 0,
        outOfOrder: 0,
        intervalInferred: false,
        longestGapSteps: 0,
        gaps: [],
      },
    };
    try {
      this.latest = forecastSeries(series, {
        horizonSteps: Math.max(1, Math.ceil(this.opts.horizonMs / this.opts.intervalMs)),
        seriesKey: this.seriesKey,
      });
      this.refreshes++;
    } catch {
      // A failed refit keeps the previous forecast; the planner also copes with none.
      this.failures++;
    }
    return this.latest;
  }

  private closeBucket(): void {
    this.buckets.push(this.currentCount > 0 ? this.currentSum / this.currentCount : 0);
    this.currentSum = 0;
    this.currentCount = 0;
  }
}
