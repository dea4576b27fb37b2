import { htmlPage } from '../report/html-page.js';
import { escapeHtml, formatNumber, lineChart } from '../report/svg-chart.js';
import type { CostReport } from './cost-model.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

function usd(v: number): string {
  return `$${v >= 100 ? v.toFixed(0) : v.toFixed(2)}`;
}
function pct(v: number): string {
  return `${(v * 100).toFixed(1)} %`;
}

/** Per-hour values on a continuous hourly axis (hours with no instance are 0). */
function hourlySeries(report: CostReport, pick: (h: CostReport['hourly'][number]) => number): number[] {
  const first = report.hourly[0];
  if (!first) return [];
  const last = report.hourly[report.hourly.length - 1] ?? first;
  const out = new Array<number>(Math.round((last.hourStartMs - first.hourStartMs) / HOUR_MS) + 1).fill(0);
  for (const h of report.hourly) out[Math.round((h.hourStartMs - first.hourStartMs) / HOUR_MS)] = pick(h);
  return out;
}

/**
 * The cost report as one self-contained page: totals, capacity vs busy CPU per hour, cost per day, utilization, the
 * per-pool table and the waste split (drain time, interruption headroom, forecast headroom).
 */
export function renderCostReport(
  report: CostReport,
  meta: { fleet: string; priceTable: { date: string; source: string } },
): string {
  const t = report.totals;
  const body: string[] = [];
  body.push(
    `<h1>Cost report: ${escapeHtml(meta.fleet)}</h1>`,
    `<p class="inputs">${new Date(report.sinceMs).toISOString().slice(0, 16)}Z → ${new Date(report.untilMs).toISOString().slice(0, 16)}Z · on-demand prices of ${escapeHtml(meta.priceTable.date)}</p>`,
    '<table class="summary"><thead><tr><th>cost</th><th>on demand</th><th>savings</th><th>instance-hours</th><th>utilization</th><th>records</th><th>$ / M records</th><th>interruptions</th><th>replayed records</th></tr></thead><tbody><tr>',
    `<td>${usd(t.cost)}</td><td>${usd(t.onDemandCost)}</td><td>${t.savingsPct.toFixed(1)} %</td><td>${formatNumber(t.instanceHours)}</td><td>${pct(t.utilization)}</td><td>${formatNumber(t.records)}</td><td>${t.costPerMillionRecords === null ? '–' : usd(t.costPerMillionRecords)}</td><td>${report.interruptions.count}</td><td>${formatNumber(report.interruptions.replayedRecords)} (${usd(report.interruptions.replayCost)})</td>`,
    '</tr></tbody></table>',
  );
  const first = report.hourly[0];
  if (first) {
    body.push(
      '<h2>Capacity and work</h2>',
      lineChart({
        title: 'vCPU per hour: paid capacity vs busy',
        startMs: first.hourStartMs,
        intervalMs: HOUR_MS,
        series: [
          {
            name: 'capacity',
            color: '#8da2c9',
            values: hourlySeries(report, (h) => h.capacityUnits),
            area: true,
          },
          { name: 'busy', color: '#1d5fd1', values: hourlySeries(report, (h) => h.busyUnits) },
          {
            name: 'drain time',
            color: '#b3261e',
            values: hourlySeries(report, (h) => h.drainUnits),
            dashed: true,
          },
        ],
      }),
      lineChart({
        title: 'Utilization (busy / paid vCPU)',
        startMs: first.hourStartMs,
        intervalMs: HOUR_MS,
        series: [
          {
            name: 'utilization',
            color: '#1d5fd1',
            values: hourlySeries(report, (h) => (h.capacityUnits > 0 ? h.busyUnits / h.capacityUnits : 0)),
          },
        ],
        yMax: 1,
        yFormat: pct,
      }),
    );
    const days = new Map<number, number>();
    for (const h of report.hourly) {
      const day = Math.floor(h.hourStartMs / DAY_MS) * DAY_MS;
      days.set(day, (days.get(day) ?? 0) + h.cost);
    }
    const dayKeys = [...days.keys()].sort((a, b) => a - b);
    const firstDay = dayKeys[0] ?? first.hourStartMs;
    const dayValues = dayKeys.map((d) => days.get(d) ?? 0);
    body.push(
      lineChart({
        title: 'Cost per day',
        startMs: firstDay,
        intervalMs: DAY_MS,
        series: [
          {
            name: 'cost',
            color: '#2e7d32',
            values: dayValues.length === 1 ? [dayValues[0] ?? 0, dayValues[0] ?? 0] : dayValues,
          },
        ],
        yFormat: usd,
      }),
    );
  }
  body.push(
    '<h2>Pools</h2><table class="summary"><thead><tr><th>instance type</th><th>AZ</th><th>market</th><th>instances</th><th>instance-hours</th><th>mean $/h</th><th>cost</th><th>on demand</th><th>utilization</th></tr></thead><tbody>',
    ...report.pools.map(
      (p) =>
        `<tr><th>${escapeHtml(p.instanceType)}</th><td>${escapeHtml(p.availabilityZone)}</td><td>${p.market}</td><td>${p.instances}</td><td>${formatNumber(p.instanceHours)}</td><td>${p.meanPricePerHour.toFixed(4)}</td><td>${usd(p.cost)}</td><td>${usd(p.onDemandCost)}</td><td>${pct(p.utilization)}</td></tr>`,
    ),
    '</tbody></table>',
    '<h2>Where the idle capacity went</h2><table class="summary"><thead><tr><th>part</th><th>vCPU-hours</th><th>cost</th></tr></thead><tbody>',
    ...(
      [
        ['drain time', report.waste.drainTime],
        ['interruption headroom', report.waste.interruptionHeadroom],
        ['forecast headroom', report.waste.forecastHeadroom],
        ['idle total', report.waste.idle],
      ] as const
    ).map(
      ([name, part]) =>
        `<tr><th>${name}</th><td>${formatNumber(part.unitHours)}</td><td>${usd(part.cost)}</td></tr>`,
    ),
    '</tbody></table>',
    `<p class="notes">Idle = paid vCPU − busy vCPU, per hour, split in order: capacity of draining instances; up to the largest (type, AZ) pool's capacity, held so losing that pool keeps the lag SLO; the rest, provisioned above the load for the forecast band and the utilization target. Prices: ${escapeHtml(meta.priceTable.source)}</p>`,
    ...report.notes.map((n) => `<p class="notes">${escapeHtml(n)}</p>`),
  );
  return htmlPage(`Cost report: ${meta.fleet}`, body.join('\n'));
}
