import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import type { AutoscalerPolicyInput } from '../../../autoscaler/policy/policy-schema.js';
import { LiveaggPolicy } from '../../../autoscaler/simulator/liveagg-policy.js';
import { type SimConfig, simConfigSchema } from '../../../autoscaler/simulator/sim-config-schema.js';
import {
  POLICY_NAMES,
  type PolicyName,
  type SimulationResult,
} from '../../../autoscaler/simulator/sim-result.js';
import {
  baselineFactories,
  type PolicyFactories,
  parseDuration,
  simulate,
} from '../../../autoscaler/simulator/simulate.js';
import { traceFromCsv } from '../../../autoscaler/simulator/trace-input.js';
import { ConfigError, describeIssues } from '../../config/config-error.js';
import { renderSimulationReport } from '../../report/simulate-report.js';
import { formatTable, printJson, printLine, progress } from '../output.js';

interface SimulateCliOptions {
  trace: string;
  policy?: string;
  simConfig?: string;
  scale: string;
  seed: string;
  step: string;
  slo?: string;
  policies: string;
  json?: boolean;
  report?: string;
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description(
      'Replay a load trace through the real planner and the baselines (target tracking, lag-reactive, static peak) on a simulated spot fleet.',
    )
    .requiredOption('--trace <file>', 'CSV load trace (header timestamp,value)')
    .option(
      '--policy <file>',
      'autoscaler policy YAML for the liveagg planner (bare, or under `autoscaler:`)',
    )
    .option('--sim-config <file>', 'simulation YAML: fleet, spot market, SLO, baseline settings')
    .option('--scale <records/s>', "records/s at the trace's peak", '200000')
    .option('--seed <n>', 'seed for prices, interruptions and load noise', '1')
    .option('--step <duration>', 'simulation step (e.g. 30s, 1m, 5m)', '1m')
    .option('--slo <seconds>', 'lag SLO in seconds (overrides the simulation config)')
    .option('--policies <list>', 'comma-separated subset of policies to run', POLICY_NAMES.join(','))
    .option('--json', 'print only the JSON document on stdout')
    .option('--report <file>', 'write a self-contained HTML report')
    .action(async (opts: SimulateCliOptions) => {
      const result = await runSimulateCommand(opts);
      if (opts.report) {
        await writeFile(opts.report, renderSimulationReport(result));
        progress(`report written to ${opts.report}`);
      }
      if (opts.json) return printJson(result.summary);
      printLine(
        `${result.summary.trace}: ${result.summary.steps} steps of ${result.summary.step}, peak ${result.summary.scale} records/s, seed ${result.summary.seed}, lag SLO ${result.summary.sloLagSeconds}s`,
      );
      printLine(summaryTable(result));
    });
}

export async function runSimulateCommand(opts: SimulateCliOptions): Promise<SimulationResult> {
  const scale = positiveNumber('--scale', opts.scale);
  const seed = Math.trunc(numberOption('--seed', opts.seed));
  const stepMs = parseDuration(opts.step);
  const names = opts.policies
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names)
    if (!POLICY_NAMES.includes(n as PolicyName))
      throw new ConfigError('--policies', [`"${n}" is not a policy: use ${POLICY_NAMES.join(', ')}`]);
  const simRaw = opts.simConfig ? await readYaml(opts.simConfig) : {};
  const config = parseSection(simConfigSchema, simRaw ?? {}, opts.simConfig ?? 'defaults');
  if (opts.slo !== undefined) config.sloLagSeconds = positiveNumber('--slo', opts.slo);
  const policyInput = opts.policy ? policyFromYaml(await readYaml(opts.policy)) : undefined;
  const text = await readFile(opts.trace, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new ConfigError('--trace', [
      `cannot read ${opts.trace}: ${err.code ?? err.message}; give a CSV file`,
    ]);
  });
  const trace = traceFromCsv(text);
  if (trace.report.gapsFilled > 0) progress(`trace: ${trace.report.gapsFilled} missing buckets filled`);
  const factories = selectFactories(names, config, policyInput, trace.intervalMs, stepMs);
  progress(`simulating ${names.join(', ')} over ${trace.values.length} trace points`);
  return simulate({
    trace,
    traceName: path.basename(opts.trace),
    peakRate: scale,
    seed,
    stepMs,
    config,
    policies: factories,
  });
}

function selectFactories(
  names: string[],
  config: SimConfig,
  policy: AutoscalerPolicyInput | undefined,
  traceIntervalMs: number,
  stepMs: number,
): PolicyFactories {
  const all: PolicyFactories = {
    ...baselineFactories,
    liveagg: (ctx) =>
      new LiveaggPolicy({
        config,
        ...(policy ? { policy } : {}),
        forecastIntervalMs: forecastInterval(traceIntervalMs, stepMs),
        startMs: ctx.startMs,
      }),
  };
  return Object.fromEntries(names.map((n) => [n, all[n as PolicyName]]));
}

/** The forecast grid: the trace's interval, at least the step, and a divisor of a day. */
export function forecastInterval(traceIntervalMs: number, stepMs: number): number {
  const candidates = [300_000, 600_000, 900_000, 1_800_000, 3_600_000];
  const want = Math.max(traceIntervalMs, stepMs);
  return candidates.find((c) => c >= want) ?? 3_600_000;
}

function policyFromYaml(doc: unknown): AutoscalerPolicyInput {
  if (doc && typeof doc === 'object' && 'autoscaler' in doc) {
    const section = (doc as { autoscaler: unknown }).autoscaler;
    if (section && typeof section === 'object' && 'policy' in section)
      return (section as { policy: AutoscalerPolicyInput }).policy;
    return section as AutoscalerPolicyInput;
  }
  return (doc ?? {}) as AutoscalerPolicyInput;
}

async function readYaml(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new ConfigError(file, [`cannot read: ${err.code ?? err.message}`]);
  });
  try {
    return parseYaml(text);
  } catch (err) {
    throw new ConfigError(file, [`not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
}

function parseSection<T extends z.ZodType>(schema: T, input: unknown, source: string): z.output<T> {
  const r = schema.safeParse(input, { reportInput: true });
  if (!r.success) throw new ConfigError(source, describeIssues(r.error.issues));
  return r.data;
}

function numberOption(name: string, text: string): number {
  const v = Number(text);
  if (!Number.isFinite(v)) throw new ConfigError(name, [`${name}: "${text}" is not a number`]);
  return v;
}

function positiveNumber(name: string, text: string): number {
  const v = numberOption(name, text);
  if (!(v > 0)) throw new ConfigError(name, [`${name}: ${v} must be > 0`]);
  return v;
}

export function summaryTable(result: SimulationResult): string {
  const rows = POLICY_NAMES.flatMap((name) => {
    const p = result.summary.policies[name];
    if (!p) return [];
    return [
      [
        name,
        `${(p.meanUtilization * 100).toFixed(1)}%`,
        p.p99LagSeconds.toFixed(1),
        `${p.sloViolationMinutesPct.toFixed(3)}%`,
        p.cost.toFixed(0),
        p.onDemandCost.toFixed(0),
        `${p.savingsPct.toFixed(1)}%`,
        p.scaleEvents,
        p.interruptions,
        p.drains,
      ],
    ];
  });
  return formatTable(
    [
      'policy',
      'util',
      'p99 lag s',
      'SLO miss',
      'cost $',
      'on-demand $',
      'savings',
      'scale ev',
      'interrupt',
      'drains',
    ],
    rows,
  );
}
