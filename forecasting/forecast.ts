import { type BacktestReport, backtest, predictClamped } from './backtest/backtest.js';
import { naiveBands, type ResidualBands, residualBands } from './backtest/residual-intervals.js';
import { decomposition } from './models/decomposition.js';
import { modelByName } from './models/model-registry.js';
import type { ForecastModel } from './models/model-types.js';
import { seasonalNaiveDaily } from './models/seasonal-naive.js';
import { describeSteps, seasonsFor } from './series/seasons.js';
import { type RegularSeries, SeriesError } from './series/series-types.js';

export interface ForecastPoint {
  timestampMs: number;
  value: number;
  /** Lower quantile ((1 − coverage) / 2) of the forecast distribution. */
  lower: number;
  /** Upper quantile ((1 + coverage) / 2); what the autoscaler provisions for. */
  upper: number;
}

export interface Forecast {
  model: string;
  intervalMs: number;
  points: ForecastPoint[];
  /** How the model was chosen and any fallback taken (too little history, …). */
  notes?: string[];
}

export interface ForecastOptions {
  horizonSteps: number;
  /** Central interval coverage, default 0.8 → lower = q0.1, upper = q0.9. */
  coverage?: number;
  /** `auto` (default) picks by rolling-origin backtest on this horizon; or a model name. */
  model?: string;
  /** Backtest origins for selection and intervals (default 14). */
  origins?: number;
  /**
   * Names the stream (e.g. `rate:orders`) so the model selection is reused while the series grows
   * (sliding windows included) and redone after a day of new data. Without it, reuse needs the
   * same start and unchanged earlier values.
   */
  seriesKey?: string;
}

const CACHE_SIZE = 16;
const cache = new Map<string, Forecast>();

/**
 * Forecasts `horizonSteps` steps after the last value of `series`, with prediction intervals from
 * the model's backtest residuals per horizon step.
 *
 * `auto` runs the rolling-origin backtest of every model on this horizon and takes the lowest
 * MASE. With too little history for a backtest it falls back to the decomposition (≥ 2 days) or
 * the daily seasonal naive (≥ 1 day) and says so in `notes`; below one day it throws
 * `SeriesError` TOO_LITTLE_HISTORY naming how much is needed. Results are memoised on the exact
 * series and options, and the selection (model + bands) is reused for up to a day of new data,
 * so autoscaler ticks and simulator steps mostly cost one refit of the chosen model.
 */
export function forecastSeries(series: RegularSeries, opts: ForecastOptions): Forecast {
  const key = cacheKey(series, opts);
  const hit = cache.get(key);
  if (hit) return hit;
  const result = compute(series, opts);
  cache.set(key, result);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value ?? key);
  return result;
}

function compute(series: RegularSeries, opts: ForecastOptions): Forecast {
  const seasons = seasonsFor(series.intervalMs);
  const horizon = opts.horizonSteps;
  const coverage = opts.coverage ?? 0.8;
  if (!(coverage > 0 && coverage < 1))
    throw new SeriesError('BAD_OPTION', `coverage ${coverage} is not in (0, 1): use e.g. 0.8 for q0.1..q0.9`);
  if (!Number.isInteger(horizon) || horizon < 1)
    throw new SeriesError(
      'BAD_OPTION',
      `horizon ${horizon} steps is not a positive whole number of intervals`,
    );
  const values = Float64Array.from(series.values);
  const n = values.length;
  if (n < seasons.day)
    throw new SeriesError(
      'TOO_LITTLE_HISTORY',
      `the series has ${describeSteps(n, series.intervalMs)}; forecasting needs at least ${describeSteps(seasons.day, series.intervalMs)} (one day), 8 days for the weekly models`,
    );
  const selection = cachedSelection(series, values, opts, coverage);
  const f = predictClamped(selection.model, values, horizon, seasons);
  const { bands } = selection;
  const nonNegative = values.every((v) => v >= 0);
  const lastMs = series.startMs + (n - 1) * series.intervalMs;
  const points: ForecastPoint[] = [];
  for (let h = 0; h < horizon; h++) {
    const value = f[h] ?? 0;
    let lower = value + (bands.lower[h] ?? 0);
    const upper = value + (bands.upper[h] ?? 0);
    if (nonNegative) lower = Math.max(0, lower);
    points.push({ timestampMs: lastMs + (h + 1) * series.intervalMs, value, lower, upper });
  }
  const notes = [...selection.notes];
  const reusedSteps = (lastMs - selection.endMs) / series.intervalMs;
  if (reusedSteps > 0)
    notes.push(`model selection reused from ${reusedSteps} steps earlier (redone after a day of new data)`);
  return { model: selection.model.name, intervalMs: series.intervalMs, points, notes };
}

interface Selection {
  model: ForecastModel;
  bands: ResidualBands;
  notes: string[];
  /** Timestamp of the last value the selection saw. */
  endMs: number;
  /** Hash of the values it saw, to recognise the same series grown by a few steps. */
  length: number;
  hash: number;
}

const SELECTION_CACHE_SIZE = 64;
const selections = new Map<string, Selection>();

/**
 * The model and its interval bands, re-selected by backtest at most once per day of new data for
 * the same series (same `seriesKey`, or same start and unchanged earlier values); in between,
 * a forecast only refits the chosen model. This keeps autoscaler ticks and simulator steps cheap.
 */
function cachedSelection(
  series: RegularSeries,
  values: Float64Array,
  opts: ForecastOptions,
  coverage: number,
): Selection {
  const seasons = seasonsFor(series.intervalMs);
  const key = [
    opts.seriesKey ?? `start:${series.startMs}`,
    series.intervalMs,
    opts.horizonSteps,
    coverage,
    opts.model ?? 'auto',
    opts.origins ?? '',
  ].join('|');
  const endMs = series.startMs + (values.length - 1) * series.intervalMs;
  const prev = selections.get(key);
  const grownSteps = prev ? (endMs - prev.endMs) / series.intervalMs : -1;
  if (
    prev &&
    grownSteps >= 0 &&
    grownSteps < seasons.day &&
    (opts.seriesKey !== undefined ||
      (values.length >= prev.length && hashValues(values.subarray(0, prev.length)) === prev.hash))
  )
    return prev;
  const fresh = select(series, values, opts, coverage);
  const entry: Selection = { ...fresh, endMs, length: values.length, hash: hashValues(values) };
  selections.delete(key);
  selections.set(key, entry);
  if (selections.size > SELECTION_CACHE_SIZE) selections.delete(selections.keys().next().value ?? key);
  return entry;
}

function select(
  series: RegularSeries,
  values: Float64Array,
  opts: ForecastOptions,
  coverage: number,
): { model: ForecastModel; bands: ResidualBands; notes: string[] } {
  const seasons = seasonsFor(series.intervalMs);
  const horizon = opts.horizonSteps;
  const pLow = (1 - coverage) / 2;
  const n = values.length;
  const requested = opts.model && opts.model !== 'auto' ? modelByName(opts.model) : undefined;
  const notes: string[] = [];
  const report: BacktestReport = backtest(series, {
    horizonSteps: horizon,
    coverage,
    ...(requested ? { models: [requested.name] } : {}),
    ...(opts.origins !== undefined ? { origins: opts.origins } : {}),
  });
  let model: ForecastModel;
  if (requested) {
    model = requested;
    if (n < requested.minHistory(seasons)) {
      model = fallback(n, seasons.day);
      notes.push(
        `${requested.name} needs ${describeSteps(requested.minHistory(seasons), series.intervalMs)}; has ${describeSteps(n, series.intervalMs)}: used ${model.name}`,
      );
    }
  } else if (report.chosen) {
    model = modelByName(report.chosen);
    notes.push(
      `chosen by backtest over ${report.originsMs.length} origins` +
        (report.chosenVsBaseline !== null
          ? `: MASE ${report.chosenVsBaseline.toFixed(2)}× the weekly seasonal naive`
          : ''),
    );
  } else {
    model = fallback(n, seasons.day);
    notes.push(
      `too little history for a backtest (${describeSteps(n, series.intervalMs)}): used ${model.name}`,
    );
  }
  const residuals = report.models.find((m) => m.model === model.name && m.available)?.residuals ?? [];
  const bands: ResidualBands =
    residuals.length > 0
      ? residualBands(residuals, horizon, pLow)
      : naiveBands(values, n >= 2 * seasons.day ? seasons.day : 1, horizon, pLow);
  if (residuals.length === 0)
    notes.push('intervals from historical day-over-day changes (no backtest residuals)');
  return { model, bands, notes };
}

function fallback(n: number, day: number): ForecastModel {
  return n >= decomposition.minHistory({ day, week: 7 * day }) ? decomposition : seasonalNaiveDaily;
}

/** FNV-1a over the values' bits. */
function hashValues(values: Float64Array): number {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  let h = 0x811c9dc5;
  for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ (bits[i] ?? 0), 0x01000193);
  return h >>> 0;
}

/** Exact key: options plus a hash of the values. */
function cacheKey(series: RegularSeries, opts: ForecastOptions): string {
  return [
    opts.seriesKey ?? '',
    series.startMs,
    series.intervalMs,
    series.values.length,
    hashValues(Float64Array.from(series.values)),
    opts.horizonSteps,
    opts.coverage ?? 0.8,
    opts.model ?? 'auto',
    opts.origins ?? '',
  ].join('|');
}
