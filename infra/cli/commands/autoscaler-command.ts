import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import { capacitySchedule } from '../../../autoscaler/plan/capacity-schedule.js';
import {
  ALL_STREAMS,
  capacityModelFromThroughput,
  type LoadForecast,
} from '../../../autoscaler/plan/plan-types.js';
import type { DecisionLogRecord } from '../../../autoscaler/ports/decision-log.js';
import { forecastSeries } from '../../../forecasting/forecast.js';
import { parseTimeSeriesCsv } from '../../../forecasting/series/parse-csv.js';
import { resample } from '../../../forecasting/series/resample.js';
import { HOUR_MS } from '../../../forecasting/series/series-types.js';
import { buildAutoscaler } from '../../autoscaler-run/build-autoscaler.js';
import { ConfigError } from '../../config/config-error.js';
import type { LiveAggConfig } from '../../config/config-schema.js';
import { loadConfig } from '../../config/load-config.js';
import { createLogger } from '../../log/logger.js';
import { formatTable, printJson, printLine, progress } from '../output.js';

interface RunOptions {
  config?: string;
  dryRun?: boolean;
  ui?: number;
  decisionLog?: string;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`${v} is not a port (0–65535)`);
  return n;
}

/** The config file as a plain document (the local fleet writes each worker's config from it). */
export async function readDocument(file: string): Promise<Record<string, unknown>> {
  const doc = parseYaml(await readFile(file, 'utf8')) as unknown;
  return typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
}

/** `--config` given to the subcommand or to `autoscaler` itself (commander parses it at either level). */
function configOf(opts: { config?: string }, self: Command): string {
  const file = opts.config ?? (self.parent?.opts() as { config?: string } | undefined)?.config;
  // (for `autoscaler` itself, parent is the program, which has no --config)
  if (file === undefined) self.error("error: required option '-c, --config <file>' not specified");
  return file as string;
}

export function registerAutoscalerCommand(program: Command): void {
  const cmd = program
    .command('autoscaler')
    .description(
      'Run the autoscaler loop (observe, learn, plan, act, record) on the fleet the config names (local processes or AWS); `plan` and `forecast` print without acting.',
    )
    .enablePositionalOptions()
    .option('-c, --config <file>', 'config file (YAML; required)')
    .option('--dry-run', 'decide and record, never change the fleet')
    .option('--ui <port>', 'serve the live dashboard on this port (127.0.0.1)', parsePort)
    .option('--decision-log <file>', 'decision log (JSON lines); default fleet.decisionLogFile')
    .action(async (opts: Partial<RunOptions>, self: Command) => {
      opts.config = configOf(opts, self);
      const cfg = await loadConfig(opts.config);
      const log = createLogger('autoscaler');
      const rt = await buildAutoscaler(cfg, {
        document: await readDocument(opts.config as string),
        log,
        ...(opts.dryRun ? { dryRun: true } : {}),
        ...(opts.decisionLog ? { decisionLogFile: opts.decisionLog } : {}),
      });
      const abort = new AbortController();
      let ui: { url: string; close(): Promise<void> } | undefined;
      if (opts.ui !== undefined) {
        const { startDashboard } = await import('../../dashboard/dashboard-server.js');
        ui = await startDashboard({ port: opts.ui, runtime: rt });
        progress(`dashboard: ${ui.url}`);
      }
      progress(
        `autoscaler: ${cfg.fleet.provider} fleet, every ${rt.policy.intervalMs} ms${rt.policy.dryRun ? ' (dry run)' : ''}; decision log ${rt.decisionLog.file}`,
      );
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await rt.autoscaler.run(abort.signal);
      progress('autoscaler: stopping (local workers drain first)');
      await rt.autoscaler.settled();
      await rt.close();
      await ui?.close();
      process.exit(0);
    });

  cmd
    .command('plan')
    .description('print one decision with its inputs and reasons, without acting (a dry-run tick)')
    .option('-c, --config <file>', 'config file (YAML; required)')
    .option('--json', 'print only the JSON document on stdout')
    .action(async (opts: { config?: string; json?: boolean }, self: Command) => {
      opts.config = configOf(opts, self);
      const cfg = await loadConfig(opts.config);
      const rt = await buildAutoscaler(cfg, {
        document: await readDocument(opts.config as string),
        log: createLogger('autoscaler'),
        dryRun: true,
        startLocalFleet: false,
      });
      let record: DecisionLogRecord | undefined;
      rt.decisionLog.subscribe((r) => {
        if (r.kind === 'decision') record = r;
      });
      const decision = await rt.autoscaler.tick();
      await rt.close();
      if (decision === undefined || record === undefined) {
        progress('autoscaler plan: the fleet could not be observed; see the decision log');
        process.exitCode = 1;
        return;
      }
      const doc = { input: record['input'], decision: { ...decision, memory: undefined } };
      if (opts.json) printJson(doc);
      else {
        printLine(
          `${decision.action}: ${decision.previousUnits} → ${decision.desiredUnits} units${decision.drain.length ? `, drain ${decision.drain.join(', ')}` : ''}`,
        );
        for (const r of decision.reasons) printLine(`  ${r.code}: ${r.message}`);
      }
    });

  cmd
    .command('forecast')
    .description(
      'print the capacity plan for the next 48 h: hourly desired capacity with the forecast behind it',
    )
    .option('-c, --config <file>', 'config file (YAML; required)')
    .option(
      '--history <csv>',
      'input-rate history, CSV timestamp,value (records/s); default fleet.forecastHistoryCsv',
    )
    .option('--hours <n>', 'hours to plan', (v) => Number.parseInt(v, 10), 48)
    .option('--json', 'print only the JSON document on stdout')
    .action(
      async (opts: { config?: string; history?: string; hours: number; json?: boolean }, self: Command) => {
        const cfg = await loadConfig(configOf(opts, self));
        const doc = await capacityPlan(cfg, opts.history, opts.hours);
        if (opts.json) return printJson(doc);
        printLine(`capacity plan from ${doc.model}, ${doc.points.length} hours`);
        printLine(
          formatTable(
            ['hour (UTC)', 'forecast', 'upper', 'cpu@100%', 'desired'],
            doc.points.map((p) => [
              new Date(p.timestampMs).toISOString().slice(0, 16),
              p.forecast.value.toFixed(1),
              p.forecast.upper.toFixed(1),
              p.cpuUnitsAt100.toFixed(2),
              p.desiredUnits,
            ]),
          ),
        );
      },
    );
}

/** The 48 h plan: forecast the history hourly, then size every hour as the planner would. */
export async function capacityPlan(cfg: LiveAggConfig, historyFile: string | undefined, hours: number) {
  const file = historyFile ?? cfg.fleet.forecastHistoryCsv;
  if (file === undefined)
    throw new ConfigError('fleet.forecastHistoryCsv', [
      'is required for a capacity plan (or pass --history FILE with timestamp,value rows of records/s)',
    ]);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the history: ${(err as Error).message}`]);
  }
  const series = resample(parseTimeSeriesCsv(text), { intervalMs: HOUR_MS, agg: 'mean' });
  const f = forecastSeries(series, { horizonSteps: hours + 1, seriesKey: `history:${file}` });
  const forecast: LoadForecast = {
    generatedAtMs: series.startMs + series.values.length * HOUR_MS,
    series: [{ stream: ALL_STREAMS, points: f.points }],
  };
  // Plan from the end of the history (the forecast starts there), one hour before its first point.
  const now = f.points[0]!.timestampMs - 1;
  const model = cfg.fleet.recordsPerSecondPerVcpu;
  const points = capacitySchedule(forecast, capacityModelFromThroughput(model), cfg.autoscaler, now, {
    hours,
  });
  return { model: f.model, notes: f.notes ?? [], generatedAtMs: now, points };
}
