import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { backtest } from '../../../forecasting/backtest/backtest.js';
import { type Forecast, forecastSeries } from '../../../forecasting/forecast.js';
import { formatDuration, parseDuration } from '../../../forecasting/series/duration.js';
import { parseTimeSeriesCsv } from '../../../forecasting/series/parse-csv.js';
import { resample } from '../../../forecasting/series/resample.js';
import { type RegularSeries, SeriesError } from '../../../forecasting/series/series-types.js';
import { formatTable, printJson, printLine, progress } from '../output.js';

interface SeriesOptions {
  input?: string;
  horizon?: number;
  interval?: number;
  agg?: 'sum' | 'mean';
  json?: boolean;
}

/** Series longer than this print backtest progress on stderr. */
const PROGRESS_ABOVE_STEPS = 10_000;

export function registerForecastCommand(program: Command): void {
  const cmd = withSeriesOptions(
    program
      .command('forecast')
      .description(
        'Forecast a time series (CSV timestamp,value) with intervals; `forecast backtest` compares models.',
      )
      .enablePositionalOptions(),
  )
    .option('--model <name>', 'auto (pick by backtest) or a model name', 'auto')
    .option('--coverage <p>', 'central prediction interval coverage', parseCoverage, 0.8)
    .option('--csv', 'print CSV instead of a table')
    .action(
      async (opts: SeriesOptions & { model: string; coverage: number; csv?: boolean }, self: Command) => {
        const horizon = requireSeriesOptions(opts, self);
        await reportErrors(async () => {
          const series = await loadSeries(opts);
          const f = forecastSeries(series, {
            horizonSteps: horizonSteps(horizon, series.intervalMs),
            model: opts.model,
            coverage: opts.coverage,
          });
          for (const note of [...(f.notes ?? []), ...describeReport(series)]) progress(`forecast: ${note}`);
          if (opts.json) return printJson(forecastDocument(f));
          if (opts.csv) {
            printLine('timestamp,value,lower,upper');
            for (const p of f.points)
              printLine(
                `${new Date(p.timestampMs).toISOString()},${round(p.value)},${round(p.lower)},${round(p.upper)}`,
              );
            return;
          }
          printLine(`model ${f.model}, interval ${formatDuration(f.intervalMs)}, ${f.points.length} steps`);
          printLine(
            formatTable(
              ['timestamp', 'value', 'lower', 'upper'],
              f.points.map((p) => [
                new Date(p.timestampMs).toISOString(),
                fmt(p.value),
                fmt(p.lower),
                fmt(p.upper),
              ]),
            ),
          );
        });
      },
    );
  withSeriesOptions(
    cmd.command('backtest').description('rolling-origin backtest of every model on the horizon'),
  )
    .option('--origins <n>', 'number of rolling origins', parsePositiveInt, 14)
    .action(async (own: SeriesOptions & { origins: number }, self: Command) => {
      // The root program parses options after a subcommand for the parent too: take them from both.
      const opts = { ...defined(self.parent?.opts() ?? {}), ...defined(own) } as typeof own;
      const horizon = requireSeriesOptions(opts, self);
      await reportErrors(async () => {
        const series = await loadSeries(opts);
        const long = series.values.length > PROGRESS_ABOVE_STEPS;
        const report = backtest(series, {
          horizonSteps: horizonSteps(horizon, series.intervalMs),
          origins: opts.origins,
          ...(long ? { onProgress: (d: number, t: number) => progress(`backtest: origin ${d}/${t}`) } : {}),
        });
        for (const note of [...report.notes, ...describeReport(series)]) progress(`backtest: ${note}`);
        const models = report.models.map((m) => ({
          model: m.model,
          available: m.available,
          ...(m.reason ? { reason: m.reason } : {}),
          ...m.metrics,
        }));
        const doc = {
          interval: formatDuration(series.intervalMs),
          horizon: formatDuration(report.horizonSteps * series.intervalMs),
          origins: report.originsMs.length,
          originsFrom: report.originsMs[0] !== undefined ? new Date(report.originsMs[0]).toISOString() : null,
          coverageTarget: report.coverageTarget,
          chosen: report.chosen,
          baseline: report.baseline,
          chosenVsBaseline: report.chosenVsBaseline,
          models,
          input: series.report,
        };
        if (opts.json) return printJson(doc);
        printLine(
          `chosen ${report.chosen ?? '-'} (MASE ${fmt(report.chosenVsBaseline)}× ${report.baseline?.model ?? 'baseline n/a'}), ${doc.origins} origins, horizon ${doc.horizon}`,
        );
        printLine(
          formatTable(
            ['model', 'MASE', 'MAE', 'sMAPE%', 'MAPE%', 'pinball', 'coverage'],
            report.models.map((m) =>
              m.available
                ? [
                    m.model,
                    fmt(m.metrics.mase),
                    fmt(m.metrics.mae),
                    fmt(m.metrics.smape),
                    fmt(m.metrics.mape),
                    fmt(m.metrics.pinball),
                    fmt(m.metrics.coverage),
                  ]
                : [m.model, `unavailable: ${m.reason ?? ''}`, '', '', '', '', ''],
            ),
          ),
        );
      });
    });
}

// --input and --horizon are checked in the action, not with requiredOption: commander checks a
// parent's mandatory options even when a subcommand (`forecast backtest`) runs.
function withSeriesOptions(cmd: Command): Command {
  return cmd
    .option('--input <file>', 'CSV file with header timestamp,value (UTC) (required)')
    .option('--horizon <duration>', 'how far ahead, e.g. 1h, 24h, 7d (required)', parseDurationArg)
    .option(
      '--interval <duration>',
      'resampling interval (default: median spacing of the input)',
      parseDurationArg,
    )
    .addOption(
      new Option(
        '--agg <how>',
        'merge points in one interval: sum (counts) or mean (gauges, the default)',
      ).choices(['sum', 'mean']),
    )
    .option('--json', 'print only the JSON document on stdout');
}

/** The `--json` document: `{ interval, model, points: [{ timestamp, value, lower, upper }] }`. */
export function forecastDocument(f: Forecast): unknown {
  return {
    interval: formatDuration(f.intervalMs),
    model: f.model,
    points: f.points.map((p) => ({
      timestamp: new Date(p.timestampMs).toISOString(),
      value: round(p.value),
      lower: round(p.lower),
      upper: round(p.upper),
    })),
  };
}

/** Returns the horizon; prints usage and exits for a missing --input or --horizon. */
function requireSeriesOptions(opts: SeriesOptions, self: Command): number {
  if (!opts.input) self.error("error: required option '--input <file>' not specified");
  if (opts.horizon === undefined) self.error("error: required option '--horizon <duration>' not specified");
  return opts.horizon;
}

async function loadSeries(opts: SeriesOptions): Promise<RegularSeries> {
  const text = await readFile(opts.input ?? '', 'utf8');
  try {
    return resample(parseTimeSeriesCsv(text), {
      agg: opts.agg ?? 'mean',
      ...(opts.interval !== undefined ? { intervalMs: opts.interval } : {}),
    });
  } catch (err) {
    if (err instanceof SeriesError)
      throw new SeriesError(err.code, `${opts.input}: ${err.message}`, err.line, err.value);
    throw err;
  }
}

function horizonSteps(horizonMs: number, intervalMs: number): number {
  if (horizonMs % intervalMs !== 0 || horizonMs < intervalMs)
    throw new SeriesError(
      'BAD_OPTION',
      `--horizon ${formatDuration(horizonMs)} is not a whole number of intervals of ${formatDuration(intervalMs)}`,
    );
  return horizonMs / intervalMs;
}

function describeReport(s: RegularSeries): string[] {
  const r = s.report;
  const out: string[] = [];
  if (r.intervalInferred)
    out.push(`interval ${formatDuration(s.intervalMs)} inferred from the median spacing`);
  if (r.outOfOrder > 0) out.push(`${r.outOfOrder} rows were out of order and were sorted`);
  if (r.duplicates > 0) out.push(`${r.duplicates} rows repeated a timestamp and were merged`);
  if (r.gapsFilled > 0)
    out.push(`${r.gapsFilled} empty intervals filled (longest gap ${r.longestGapSteps} intervals)`);
  return out;
}

async function reportErrors(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (err instanceof SeriesError) {
      process.stderr.write(`liveagg: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}

function parseDurationArg(text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

function parseCoverage(text: string): number {
  const p = Number(text);
  if (!(p > 0 && p < 1)) throw new InvalidArgumentError(`coverage "${text}" is not in (0, 1), e.g. 0.8`);
  return p;
}

function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`"${text}" is not a positive whole number`);
  return n;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

function fmt(v: number | null): string {
  if (v === null) return '-';
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);
}
