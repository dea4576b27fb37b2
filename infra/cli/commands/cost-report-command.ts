import { writeFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { AutoscalerPortError } from '../../../autoscaler/ports/errors.js';
import { parseDuration } from '../../../forecasting/series/duration.js';
import { createCloudWatchClient, createEc2Client } from '../../aws/aws-clients.js';
import { Ec2FleetProvider } from '../../aws/ec2-fleet-provider.js';
import { SpotFleetProvider } from '../../aws/spot-fleet-provider.js';
import { loadConfig } from '../../config/load-config.js';
import { type CostReport, computeCostReport } from '../../cost/cost-model.js';
import { renderCostReport } from '../../cost/cost-report-html.js';
import { FLEET_TAGS, type FleetSelector, readFleetUsage } from '../../cost/fleet-usage-reader.js';
import { loadPriceTable, PriceTableError } from '../../cost/price-table.js';
import { formatTable, printJson, printLine, progress } from '../output.js';

interface CostReportOptions {
  since: number;
  config?: string;
  asg?: string;
  spotFleet?: string;
  ec2Fleet?: string;
  tag?: FleetSelector;
  prices?: string;
  includeMetricsOnlyWorkers?: boolean;
  json?: boolean;
  html?: string;
}

export function registerCostReportCommand(program: Command): void {
  program
    .command('cost-report')
    .description(
      'What the fleet cost and did: instance-hours per type and AZ, spot and on-demand prices, utilization, cost per million records, where the idle capacity went, interruptions.',
    )
    .option(
      '--since <duration>',
      'report window ending now (e.g. 24h, 7d)',
      parseDurationArg,
      parseDuration('7d'),
    )
    .option('-c, --config <file>', 'config file (the aws section says where EC2 and CloudWatch are)')
    .option('--asg <name>', 'the fleet is this Auto Scaling group')
    .option('--spot-fleet <id>', 'the fleet is this Spot Fleet request (sfr-…)')
    .option('--ec2-fleet <id>', 'the fleet is this EC2 Fleet (fleet-…)')
    .option('--tag <key=value>', 'the fleet is every instance with this tag', parseTag)
    .option(
      '--prices <file>',
      'on-demand price table (JSON, same shape as infra/cost/on-demand-prices.json) laid over the shipped one',
    )
    .option(
      '--include-metrics-only-workers',
      'also bill workers seen only in CloudWatch (terminated too long ago for EC2 to list)',
    )
    .option('--json', 'print the report as JSON on stdout')
    .option('--html <file>', 'write the report as a self-contained HTML page')
    .action(async (opts: CostReportOptions, self: Command) => {
      const selectors = [
        opts.asg !== undefined ? { tagKey: FLEET_TAGS.asg, tagValue: opts.asg } : undefined,
        opts.spotFleet !== undefined ? { tagKey: FLEET_TAGS.spotFleet, tagValue: opts.spotFleet } : undefined,
        opts.ec2Fleet !== undefined ? { tagKey: FLEET_TAGS.ec2Fleet, tagValue: opts.ec2Fleet } : undefined,
        opts.tag,
      ].filter((s): s is FleetSelector => s !== undefined);
      const selector = selectors[0];
      if (selectors.length !== 1 || !selector) {
        self.error(
          'cost-report: name the fleet with exactly one of --asg, --spot-fleet, --ec2-fleet or --tag',
        );
        return;
      }
      try {
        const config = await loadConfig(opts.config);
        const priceTable = await loadPriceTable(opts.prices);
        const untilMs = Date.now();
        const ec2 = createEc2Client(config.aws);
        const cloudwatch = createCloudWatchClient(config.aws);
        try {
          progress(`cost-report: reading ${selector.tagKey}=${selector.tagValue} from EC2 and CloudWatch`);
          // Fleet members by the fleet API too: instances keep the fleet's tag only when launched by it with tagging on.
          const memberInstanceIds =
            opts.spotFleet !== undefined
              ? (
                  await new SpotFleetProvider(ec2, { spotFleetRequestId: opts.spotFleet }).describe()
                ).instances.map((i) => i.instanceId)
              : opts.ec2Fleet !== undefined
                ? (await new Ec2FleetProvider(ec2, { fleetId: opts.ec2Fleet }).describe()).instances.map(
                    (i) => i.instanceId,
                  )
                : [];
          const usage = await readFleetUsage(
            { ec2, cloudwatch },
            {
              selector,
              sinceMs: untilMs - opts.since,
              untilMs,
              priceTable,
              includeMetricsOnlyWorkers: opts.includeMetricsOnlyWorkers === true,
              memberInstanceIds,
            },
          );
          const report = computeCostReport({
            ...usage.inputs,
            onDemandPerHour: (type) => priceTable.prices[type]?.onDemandPerHour,
          });
          report.notes.push(...usage.notes);
          const fleet = `${selector.tagKey}=${selector.tagValue}`;
          const priceInfo = { date: priceTable.date, region: priceTable.region, source: priceTable.source };
          if (opts.html) {
            await writeFile(opts.html, renderCostReport(report, { fleet, priceTable: priceInfo }));
            progress(`cost-report: wrote ${opts.html}`);
          }
          if (opts.json) return printJson({ fleet, onDemandPriceTable: priceInfo, ...toJson(report) });
          if (!opts.html) printText(report, fleet);
        } finally {
          ec2.destroy();
          cloudwatch.destroy();
        }
      } catch (err) {
        if (err instanceof PriceTableError || err instanceof AutoscalerPortError) {
          process.stderr.write(`liveagg: ${err.message}\n`);
          process.exitCode = 2;
          return;
        }
        throw err;
      }
    });
}

function round(v: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function toJson(report: CostReport) {
  return {
    since: new Date(report.sinceMs).toISOString(),
    until: new Date(report.untilMs).toISOString(),
    totals: Object.fromEntries(
      Object.entries(report.totals).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v]),
    ),
    pools: report.pools.map((p) => ({
      ...p,
      instanceHours: round(p.instanceHours),
      unitHours: round(p.unitHours),
      cost: round(p.cost),
      onDemandCost: round(p.onDemandCost),
      meanPricePerHour: round(p.meanPricePerHour),
      utilization: round(p.utilization),
    })),
    waste: Object.fromEntries(
      Object.entries(report.waste).map(([k, v]) => [
        k,
        { unitHours: round(v.unitHours), cost: round(v.cost) },
      ]),
    ),
    interruptions: { ...report.interruptions, replayCost: round(report.interruptions.replayCost) },
    hourly: report.hourly.map((h) => ({
      hour: new Date(h.hourStartMs).toISOString(),
      capacityUnits: round(h.capacityUnits),
      busyUnits: round(h.busyUnits),
      cost: round(h.cost),
      drainUnits: round(h.drainUnits),
      interruptionHeadroomUnits: round(h.interruptionHeadroomUnits),
      forecastHeadroomUnits: round(h.forecastHeadroomUnits),
    })),
    notes: report.notes,
  };
}

function printText(report: CostReport, fleet: string): void {
  const t = report.totals;
  printLine(
    `fleet ${fleet}: ${new Date(report.sinceMs).toISOString()} → ${new Date(report.untilMs).toISOString()}`,
  );
  printLine(
    `cost $${t.cost.toFixed(2)} (on demand $${t.onDemandCost.toFixed(2)}, savings ${t.savingsPct.toFixed(1)} %), utilization ${(t.utilization * 100).toFixed(1)} %, ` +
      `$/M records ${t.costPerMillionRecords === null ? '–' : t.costPerMillionRecords.toFixed(4)}, interruptions ${report.interruptions.count}`,
  );
  printLine(
    formatTable(
      ['type', 'AZ', 'market', 'instances', 'inst-hours', 'cost $', 'utilization'],
      report.pools.map((p) => [
        p.instanceType,
        p.availabilityZone,
        p.market,
        p.instances,
        p.instanceHours.toFixed(2),
        p.cost.toFixed(4),
        `${(p.utilization * 100).toFixed(1)} %`,
      ]),
    ),
  );
  const w = report.waste;
  printLine(
    `idle $${w.idle.cost.toFixed(4)}: drain time $${w.drainTime.cost.toFixed(4)}, interruption headroom $${w.interruptionHeadroom.cost.toFixed(4)}, forecast headroom $${w.forecastHeadroom.cost.toFixed(4)}`,
  );
  for (const note of report.notes) progress(`cost-report: ${note}`);
}

function parseDurationArg(text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

function parseTag(text: string): FleetSelector {
  const at = text.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`"${text}" is not KEY=VALUE (e.g. liveagg:fleet=prod)`);
  return { tagKey: text.slice(0, at), tagValue: text.slice(at + 1) };
}
