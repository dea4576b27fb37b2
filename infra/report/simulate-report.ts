import type { PolicyRun, PolicySeries, SimulationResult } from '../../autoscaler/simulator/sim-result.js';
import { POLICY_NAMES, type PolicyName } from '../../autoscaler/simulator/sim-result.js';
import { htmlPage } from './html-page.js';
import { type ChartSeries, escapeHtml, formatNumber, lineChart } from './svg-chart.js';

/** One colour per policy, the same in every chart and the table. */
export const POLICY_COLORS: Record<PolicyName, string> = {
  liveagg: '#1b7f3b',
  'target-tracking': '#d1495b',
  'lag-reactive': '#edae49',
  'static-peak': '#5b6c8f',
};
const LOAD_COLOR = '#3a86ff';

const pct = (v: number) => `${formatNumber(v * 100)}%`;
const money = (v: number) => `$${v.toLocaleString('en-US', { maximumFractionDigits: 0 })}`;

/**
 * The `liveagg simulate --report` page: the summary table, then load vs capacity per policy (the
 * whole run and the peak week), utilization, lag against the SLO, and cost per day. Everything is
 * inline (SVG drawn here, CSS in the page): it opens offline and can be mailed as one file.
 */
export function renderSimulationReport(result: SimulationResult): string {
  const s = result.summary;
  const runs = POLICY_NAMES.flatMap((name) => {
    const run = result.runs[name];
    return run ? [{ name, run }] : [];
  });
  const first = runs[0]?.run;
  const body: string[] = [];
  body.push(
    `<h1>Simulation: ${escapeHtml(s.trace)}</h1>`,
    `<p class="inputs">${escapeHtml(s.startTime.slice(0, 10))} → ${escapeHtml(s.endTime.slice(0, 10))} · ${s.steps.toLocaleString('en-US')} steps of ${escapeHtml(s.step)} · peak ${formatNumber(s.scale)} records/s · seed ${s.seed} · lag SLO ${s.sloLagSeconds} s</p>`,
    summaryTable(result),
  );
  if (first) {
    body.push('<h2>Peak week: load vs consuming capacity</h2><div class="grid">');
    for (const { name, run } of runs) body.push(loadVsCapacity(name, run.zoom, 440, 200));
    body.push('</div>');
    body.push('<h2>Whole run</h2>');
    body.push(
      lineChart({
        title: 'Utilization (processed / consuming capacity)',
        startMs: first.series.startMs,
        intervalMs: first.series.bucketMs,
        series: runs.map(({ name, run }) => line(name, run.series.utilization)),
        yMax: 1,
        yFormat: pct,
      }),
      lineChart({
        title: `Max consumer lag per ${bucketLabel(first.series.bucketMs)} (seconds)`,
        startMs: first.series.startMs,
        intervalMs: first.series.bucketMs,
        series: runs.map(({ name, run }) => line(name, run.series.maxLagSeconds)),
        reference: { value: s.sloLagSeconds, label: `SLO ${s.sloLagSeconds} s` },
        yMax: Math.max(
          s.sloLagSeconds * 2,
          ...runs.map(({ run }) => Math.min(run.summary.p99LagSeconds * 2, 600)),
        ),
      }),
      lineChart({
        title: 'Spot cost per day ($)',
        startMs: first.series.startMs,
        intervalMs: 86_400_000,
        series: runs.map(({ name, run }) => line(name, run.dailyCost)),
        yFormat: (v) => `$${formatNumber(v)}`,
      }),
    );
    body.push('<h2>Whole run: load vs consuming capacity</h2><div class="grid">');
    for (const { name, run } of runs) body.push(loadVsCapacity(name, run.series, 440, 200));
    body.push('</div>');
  }
  body.push(
    '<p class="notes">Utilization is processed records over the capacity of consuming instances. Cost counts every billed instance-hour (booting, draining, under notice) at the pool\'s simulated spot price; on-demand is the same instance-hours at on-demand prices. Lag = backlog / input rate. Interruptions are clustered per pool (self-exciting process) and identical for every policy.</p>',
  );
  return htmlPage(`liveagg simulate: ${s.trace}`, body.join('\n'));
}

function line(name: PolicyName, values: readonly number[]): ChartSeries {
  return { name, color: POLICY_COLORS[name], values };
}

function loadVsCapacity(name: PolicyName, series: PolicySeries, width: number, height: number): string {
  return lineChart({
    title: `${name}: records/s`,
    startMs: series.startMs,
    intervalMs: series.bucketMs,
    series: [
      { name: 'load', color: LOAD_COLOR, values: series.inputRate, area: true },
      { name: 'capacity', color: POLICY_COLORS[name], values: series.capacityRate },
    ],
    width,
    height,
  });
}

function summaryTable(result: SimulationResult): string {
  const rows = POLICY_NAMES.flatMap((name) => {
    const p = result.summary.policies[name];
    if (!p) return [];
    const run = result.runs[name] as PolicyRun;
    const sloClass = p.sloViolationMinutesPct > 0.5 ? ' class="bad"' : '';
    return [
      `<tr data-policy="${name}"><th><span class="swatch" style="background:${POLICY_COLORS[name]}"></span>${name}</th>` +
        `<td>${pct(p.meanUtilization)}</td><td>${p.p99LagSeconds.toFixed(1)}</td><td${sloClass}>${p.sloViolationMinutesPct.toFixed(3)}%</td>` +
        `<td>${money(p.cost)}</td><td>${money(p.onDemandCost)}</td><td>${p.savingsPct.toFixed(1)}%</td>` +
        `<td>${money(run.dailyCost.reduce((a, b) => a + b, 0) / Math.max(1, run.dailyCost.length))}</td>` +
        `<td>${p.scaleEvents.toLocaleString('en-US')}</td><td>${p.interruptions}</td><td>${p.drains.toLocaleString('en-US')}</td></tr>`,
    ];
  });
  return (
    '<table class="summary"><thead><tr><th>policy</th><th>mean utilization</th><th>p99 lag (s)</th><th>minutes over SLO</th>' +
    '<th>spot cost</th><th>on-demand cost</th><th>savings</th><th>cost / day</th><th>scale events</th><th>interruptions</th><th>drains</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

function bucketLabel(ms: number): string {
  if (ms % 86_400_000 === 0) return ms === 86_400_000 ? 'day' : `${ms / 86_400_000} days`;
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} h`;
  return `${ms / 60_000} min`;
}
