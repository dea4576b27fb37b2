import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { backtest } from '../../forecasting/backtest/backtest.js';
import { forecastSeries } from '../../forecasting/forecast.js';
import { MODELS } from '../../forecasting/models/model-registry.js';
import { seasonalNaiveWeekly } from '../../forecasting/models/seasonal-naive.js';
import { parseTimeSeriesCsv } from '../../forecasting/series/parse-csv.js';
import { resample } from '../../forecasting/series/resample.js';
import { seasonsFor } from '../../forecasting/series/seasons.js';
import type { RegularSeries } from '../../forecasting/series/series-types.js';
import type { BenchDefinition } from '../../infra/cli/commands/bench-command.js';

const DEFAULT_FILE = 'ec2_cpu_utilization_5f5533.csv';

/** Median wall time in ms of `run` over `iterations` calls (after three warm-up calls for the JIT). */
function timeMs(iterations: number, run: (i: number) => void): number {
  for (let w = 1; w <= 3; w++) run(-w);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    run(i);
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? 0;
}

function loadSeries(file: string | undefined): { name: string; series: RegularSeries } {
  // Compiled to dist/test/bench, or run from test/bench: shared/ is the repo's sibling either way.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.resolve(here, '../../../shared/data'),
    path.resolve(here, '../../../../shared/data'),
  ];
  const target = file ?? candidates.map((d) => path.join(d, DEFAULT_FILE)).find((p) => existsQuiet(p));
  if (!target)
    throw new Error(`${DEFAULT_FILE} not found next to the repo: pass --input FILE (CSV timestamp,value)`);
  return {
    name: path.basename(target),
    series: resample(parseTimeSeriesCsv(readFileSync(target, 'utf8')), { agg: 'mean' }),
  };
}

function existsQuiet(p: string): boolean {
  try {
    readFileSync(p, { flag: 'r' }).length;
    return true;
  } catch {
    return false;
  }
}

/**
 * `liveagg bench forecast --json`: day-ahead forecast of 14 days of 5-minute data (4032 points),
 * timing `auto` (backtest of every model + intervals) against the weekly seasonal naive on the
 * same data in the same run.
 */
export const forecastBench: BenchDefinition = {
  name: 'forecast',
  description: 'time a day-ahead auto forecast of 14 days of 5-minute data against the seasonal naive',
  options: (cmd) =>
    cmd
      .option(
        '--input <file>',
        'CSV timestamp,value (default: ../shared/data/ec2_cpu_utilization_5f5533.csv)',
      )
      .option('--iterations <n>', 'timed calls per figure', '20'),
  async run(opts, log) {
    const { name, series } = loadSeries(typeof opts['input'] === 'string' ? opts['input'] : undefined);
    const iterations = Math.max(1, Number(opts['iterations'] ?? 20));
    const seasons = seasonsFor(series.intervalMs);
    const horizonSteps = seasons.day;
    const values = Float64Array.from(series.values);
    log(
      `bench forecast: ${name}, ${values.length} points, horizon ${horizonSteps} steps, ${iterations} iterations`,
    );
    const baselineMs = timeMs(iterations * 10, () =>
      seasonalNaiveWeekly.predict(values, horizonSteps, seasons),
    );
    // A fresh series each call (last value nudged) so the memo never answers.
    const fresh = (i: number): RegularSeries => {
      const v = series.values.slice();
      v[v.length - 1] = (v[v.length - 1] ?? 0) + (i + 2) * 1e-9;
      return { ...series, values: v };
    };
    const cold = performance.now();
    forecastSeries(fresh(-10), { horizonSteps });
    const coldMs = performance.now() - cold;
    const autoMs = timeMs(iterations, (i) => forecastSeries(fresh(i), { horizonSteps }));
    const cachedSeries = fresh(1_000);
    forecastSeries(cachedSeries, { horizonSteps });
    const cachedMs = timeMs(iterations, () => forecastSeries(cachedSeries, { horizonSteps }));
    // Autoscaler/simulator ticks: the series grows by one step per call, the selection is reused.
    const growing = series.values.slice(0, series.values.length - iterations - 1);
    const tickMs = timeMs(iterations, () => {
      growing.push(series.values[growing.length] ?? 0);
      forecastSeries({ ...series, values: growing.slice() }, { horizonSteps });
    });
    const backtestMs = timeMs(iterations, () => backtest(series, { horizonSteps }));
    // Per model on one history (Holt-Winters reuses its clipped window between repeated calls).
    const perModel = MODELS.map((m) => {
      const ms = timeMs(iterations, () => m.predict(values, horizonSteps, seasons));
      return { model: m.name, fitPredictMs: round(ms), vsBaseline: round(ms / baselineMs) };
    });
    const chosen = forecastSeries(series, { horizonSteps }).model;
    log(`bench forecast: auto ${autoMs.toFixed(2)} ms, seasonal naive ${baselineMs.toFixed(4)} ms`);
    return {
      input: name,
      points: values.length,
      intervalMs: series.intervalMs,
      horizonSteps,
      iterations,
      chosenModel: chosen,
      baseline: { what: 'seasonal-naive-weekly predict', ms: round(baselineMs) },
      autoForecastMs: round(autoMs),
      firstCallMs: round(coldMs),
      autoVsBaseline: round(autoMs / baselineMs),
      cachedForecastMs: round(cachedMs),
      growingSeriesTickMs: round(tickMs),
      tickVsBaseline: round(tickMs / baselineMs),
      backtestMs: round(backtestMs),
      perModel,
    };
  },
};

function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
