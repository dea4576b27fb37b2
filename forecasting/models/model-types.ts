/** Steps per season for a series on a regular grid (the interval divides a day). */
export interface Seasons {
  /** Steps per day. */
  day: number;
  /** Steps per week. */
  week: number;
}

/** A point-forecast model. Models are stateless: every call fits on the history it is given. */
export interface ForecastModel {
  readonly name: string;
  readonly description: string;
  /** Fewest history steps the model needs to produce a forecast. */
  minHistory(seasons: Seasons): number;
  /**
   * Forecasts `horizon` steps after the end of `history` (which holds at least `minHistory`
   * finite values). Returns finite values only.
   */
  predict(history: Float64Array, horizon: number, seasons: Seasons): Float64Array;
  /**
   * For a combination: its members. The backtest then averages the members' forecasts it has
   * already made at an origin instead of refitting them.
   */
  readonly members?: readonly ForecastModel[];
}
