import type { LoadForecast } from '../plan/plan-types.js';

/** Where the loop gets its load forecast (forecasting/ models over the recorded input rate, or a file). */
export interface ForecastSource {
  /** The latest forecast of input records/s covering at least the lead time after `nowMs`; undefined if none. */
  forecast(nowMs: number): Promise<LoadForecast | undefined>;
}
