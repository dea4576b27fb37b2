import { BASELINE_MODEL, MODELS, modelByName } from '../models/model-registry.js';
import type { ForecastModel, Seasons } from '../models/model-types.js';
import { describeSteps, seasonsFor } from '../series/seasons.js';
import { type RegularSeries, SeriesError } from '../series/series-types.js';
import { MetricsAccumulator, type ModelMetrics, naiveScale } from './metrics.js';
import { leaveOneOutBands } from './residual-intervals.js';

export interface BacktestOptions {
  /** Steps ahead each origin forecasts (the horizon the forecast is used at). */
  horizonSteps: number;
  /** How many rolling origins, newest first (default 14; fewer when history is short). */
  origins?: number;
  /** Model names to compare (default: all); the weekly seasonal naive is always added as the baseline. */
  models?: string[];
  /** Central interval coverage (default 0.8 → quantiles 0.1 and 0.9). */
  coverage?: number;
  /** Called after each origin, for progress on long series. */
  onProgress?: (done: number, total: number) => void;
}

export interface ModelBacktest {
  model: string;
  /** False when the history cannot support this model at enough origins (see `reason`). */
  available: boolean;
  reason?: string;
  metrics: ModelMetrics;
  /** actual − forecast per origin (rows) and horizon step (columns); for prediction intervals. */
  residuals: Float64Array[];
}

export interface BacktestReport {
  horizonSteps: number;
  intervalMs: number;
  coverageTarget: number;
  /** Forecast origins (timestamp of the first forecast step), oldest first. */
  originsMs: number[];
  models: ModelBacktest[];
  /** The available model with the lowest MASE (MAE if MASE is undefined; ties: the one listed first). */
  chosen: string | null;
  /** The weekly seasonal naive's MASE, when there is a week of history before every origin. */
  baseline: { model: string; mase: number | null } | null;
  /** chosen MASE / baseline MASE. */
  chosenVsBaseline: number | null;
  notes: string[];
}

const DEFAULT_ORIGINS = 14;
const MIN_ORIGINS = 2;
/** MASE scale: in-sample daily-naive MAE over at most this many days before the origin. */
const SCALE_DAYS = 28;

/**
 * Rolling-origin backtest on the horizon that is used. Origins step back from the end of the
 * series by max(horizon, 4 h), all models are scored on the same origins, and a model whose history
 * need (`minHistory`) would leave fewer than two origins is reported unavailable with how much it needs.
 */
export function backtest(series: RegularSeries, opts: BacktestOptions): BacktestReport {
  const seasons = seasonsFor(series.intervalMs);
  const horizon = opts.horizonSteps;
  if (!Number.isInteger(horizon) || horizon < 1)
    throw new SeriesError(
      'BAD_OPTION',
      `horizon ${horizon} steps is not a positive whole number of intervals`,
    );
  const pLow = (1 - (opts.coverage ?? 0.8)) / 2;
  const values = Float64Array.from(series.values);
  const n = values.length;
  const names = opts.models ?? MODELS.map((m) => m.name);
  const requested = [...new Set([BASELINE_MODEL, ...names])].map(modelByName);
  const spacing = Math.max(horizon, Math.round(seasons.day / 6));
  const maxOrigins = opts.origins ?? DEFAULT_ORIGINS;
  const notes: string[] = [];

  // Drop the hungriest models until the rest share at least MIN_ORIGINS origins.
  let candidates = [...requested];
  let origins: number[] = [];
  for (;;) {
    const need = Math.max(...candidates.map((m) => m.minHistory(seasons)), 1);
    origins = originsFrom(n, horizon, spacing, need, maxOrigins);
    if (origins.length >= Math.min(MIN_ORIGINS, maxOrigins) || candidates.length <= 1) break;
    const hungriest = candidates.reduce((a, b) => (b.minHistory(seasons) > a.minHistory(seasons) ? b : a));
    candidates = candidates.filter((m) => m.minHistory(seasons) < hungriest.minHistory(seasons));
    if (candidates.length === 0) break;
  }
  if (origins.length === 0) candidates = [];

  const results = new Map<
    string,
    { acc: MetricsAccumulator; residuals: Float64Array[]; forecasts: Float64Array[] }
  >();
  for (const m of candidates)
    results.set(m.name, { acc: new MetricsAccumulator(), residuals: [], forecasts: [] });
  const scales: number[] = [];
  // Histories before the first negative value are clamped at 0 (counts, CPU never go negative).
  let firstNegative = values.findIndex((v) => v < 0);
  if (firstNegative < 0) firstNegative = n;
  origins.forEach((o, k) => {
    const history = values.subarray(0, o);
    const actual = values.subarray(o, o + horizon);
    const scale = naiveScale(history, seasons.day, SCALE_DAYS * seasons.day);
    scales.push(scale);
    const made = new Map<string, Float64Array>();
    for (const m of candidates) {
      const r = results.get(m.name);
      if (!r) continue;
      const f =
        combineMade(m, made, history.length, seasons) ??
        predictClamped(m, history, horizon, seasons, o <= firstNegative);
      made.set(m.name, f);
      r.acc.addPoints(actual, f, scale);
      r.forecasts.push(f);
      r.residuals.push(actual.map((y, h) => y - (f[h] ?? 0)));
    }
    opts.onProgress?.(k + 1, origins.length);
  });

  const models: ModelBacktest[] = requested.map((m) => {
    const r = results.get(m.name);
    if (!r) {
      const reason = `needs ${describeSteps(m.minHistory(seasons) + horizon, series.intervalMs)} of history (${describeSteps(m.minHistory(seasons), series.intervalMs)} before a backtest origin plus the horizon); has ${describeSteps(n, series.intervalMs)}`;
      return { model: m.name, available: false, reason, metrics: emptyMetrics(), residuals: [] };
    }
    // Coverage and pinball with intervals from the other origins' residuals (leave one out).
    const folds = leaveOneOutBands(r.residuals, horizon, pLow);
    origins.forEach((o, k) => {
      const bands = folds[k] ?? { lower: new Float64Array(horizon), upper: new Float64Array(horizon) };
      const f = r.forecasts[k] ?? new Float64Array(horizon);
      const lower = f.map((v, h) => v + (bands.lower[h] ?? 0));
      const upper = f.map((v, h) => v + (bands.upper[h] ?? 0));
      r.acc.addInterval(values.subarray(o, o + horizon), lower, upper, pLow, scales[k] ?? 0);
    });
    return { model: m.name, available: true, metrics: r.acc.result(), residuals: r.residuals };
  });

  // Rank by MASE; by MAE when MASE is undefined (a history with zero day-over-day change).
  const avail = models.filter((m) => m.available && m.metrics.mae !== null);
  const byMase = avail.every((m) => m.metrics.mase !== null);
  const score = (m: ModelBacktest) => (byMase ? m.metrics.mase : m.metrics.mae) ?? Number.POSITIVE_INFINITY;
  const best = avail.reduce<ModelBacktest | undefined>(
    (a, b) => (a === undefined || score(b) < score(a) ? b : a),
    undefined,
  );
  const base = models.find((m) => m.model === BASELINE_MODEL);
  const baseline = base?.available ? { model: BASELINE_MODEL, mase: base.metrics.mase } : null;
  if (!base?.available && base?.reason) notes.push(`baseline ${BASELINE_MODEL} unavailable: ${base.reason}`);
  const chosenMase = best?.metrics.mase ?? null;
  return {
    horizonSteps: horizon,
    intervalMs: series.intervalMs,
    coverageTarget: 1 - 2 * pLow,
    originsMs: origins.map((o) => series.startMs + o * series.intervalMs),
    models,
    chosen: best?.model ?? null,
    baseline,
    chosenVsBaseline: chosenMase !== null && baseline?.mase ? chosenMase / baseline.mase : null,
    notes,
  };
}

/**
 * A combination's forecast from its members' forecasts made at this origin (the mean of those the
 * history supports, as the model itself computes it); undefined when one was not made.
 */
function combineMade(
  m: ForecastModel,
  made: Map<string, Float64Array>,
  historyLength: number,
  seasons: Seasons,
): Float64Array | undefined {
  if (!m.members) return undefined;
  const parts: Float64Array[] = [];
  for (const member of m.members) {
    if (historyLength < member.minHistory(seasons)) continue;
    const f = made.get(member.name);
    if (!f) return undefined;
    parts.push(f);
  }
  if (parts.length === 0) return undefined;
  const out = new Float64Array(parts[0]?.length ?? 0);
  for (const f of parts)
    for (let h = 0; h < out.length; h++) out[h] = (out[h] ?? 0) + (f[h] ?? 0) / parts.length;
  return out;
}

/** Origins (index of the first forecast step), oldest first, each with `need` steps before it. */
function originsFrom(n: number, horizon: number, spacing: number, need: number, max: number): number[] {
  const out: number[] = [];
  for (let o = n - horizon; o >= need && out.length < max; o -= spacing) out.push(o);
  return out.reverse();
}

/** Forecasts with the model, clamped at 0 when the history never goes negative (counts, CPU). */
export function predictClamped(
  m: ForecastModel,
  history: Float64Array,
  horizon: number,
  seasons: Seasons,
  nonNegative = isNonNegative(history),
): Float64Array {
  const f = m.predict(history, horizon, seasons);
  for (let h = 0; h < horizon; h++) {
    const v = f[h] ?? 0;
    f[h] = Number.isFinite(v) ? (nonNegative ? Math.max(0, v) : v) : 0;
  }
  return f;
}

function isNonNegative(x: Float64Array): boolean {
  for (let i = 0; i < x.length; i++) if ((x[i] ?? 0) < 0) return false;
  return true;
}

function emptyMetrics(): ModelMetrics {
  return { mae: null, mase: null, smape: null, mape: null, pinball: null, coverage: null };
}
