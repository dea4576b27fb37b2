import type { LoadForecast } from '../../autoscaler/plan/plan-types.js';
import type { ForecastSource } from '../../autoscaler/ports/forecast-source.js';
import { type Forecast, forecastSeries } from '../../forecasting/forecast.js';
import { HOUR_MS } from '../../forecasting/series/series-types.js';
import type { DemoTrace, TimeCompression } from './bike-trace.js';

/**
 * The demo's forecast: the real forecasting models fitted on the trace's history before the replayed day, with its
 * points mapped to wall time by the demo's time compression and scaled to records/s. Fitted once.
 */
export class TraceForecastSource implements ForecastSource {
  readonly #forecast: Forecast;
  constructor(
    trace: DemoTrace,
    private readonly compression: TimeCompression,
    private readonly stream: string,
  ) {
    this.#forecast = forecastSeries(trace.history, { horizonSteps: 30, seriesKey: 'demo:bike' });
  }

  /** The fitted model's name. */
  get model(): string {
    return this.#forecast.model;
  }

  async forecast(nowMs: number): Promise<LoadForecast> {
    const c = this.compression;
    // The replay loops daily: shift the day-ahead forecast to the day being replayed.
    const dayMs = 24 * c.msPerHour;
    const shift = Math.max(0, Math.floor((nowMs - c.wallStartMs) / dayMs)) * dayMs;
    const toWall = (t: number) => c.wallStartMs + shift + ((t - c.traceStartMs) / HOUR_MS) * c.msPerHour;
    return {
      generatedAtMs: nowMs,
      series: [
        {
          stream: this.stream,
          points: this.#forecast.points.map((p) => ({
            timestampMs: toWall(p.timestampMs),
            value: p.value * c.scale,
            lower: p.lower * c.scale,
            upper: p.upper * c.scale,
          })),
        },
      ],
    };
  }
}
