import { DRAIN_REASON_TAG, DRAINING_TAG } from '../../autoscaler/ports/fleet-provider.js';
import type { WorkerStatus } from '../../autoscaler/ports/worker-control.js';
import { escapeHtml, formatNumber, lineChart } from '../report/svg-chart.js';
import type { DashboardState } from './dashboard-state.js';

const COLORS = {
  input: '#3366cc',
  offered: '#8aa4d6',
  forecast: '#e08a00',
  band: '#f2b65a',
  desired: '#7b3fb2',
  target: '#c23b80',
  ready: '#2e8b57',
  util: '#2e8b57',
  lag: '#b3261e',
};

/** The live part of the page (re-rendered on every poll): figures, charts, fleet, decisions. */
export function renderFragment(
  s: DashboardState,
  statuses: ReadonlyMap<string, WorkerStatus>,
  nowMs: number,
): string {
  const last = s.samples[s.samples.length - 1];
  const d = s.lastDecision;
  const policy = d?.inputs;
  const figures = [
    [
      'ready / target units',
      last ? `${formatNumber(last.readyUnits)} / ${formatNumber(last.targetUnits)}` : '–',
    ],
    ['input', last?.liveRate !== undefined ? `${formatNumber(last.liveRate)} rec/s` : '–'],
    ['utilization', last?.utilization !== undefined ? `${(last.utilization * 100).toFixed(0)} %` : '–'],
    ['lag', last?.lagRecords !== undefined ? `${formatNumber(last.lagRecords)} rec` : '–'],
    ['scale-outs / ins', `${s.counts.scaleOuts} / ${s.counts.scaleIns}`],
    ['drains (forced)', `${s.counts.drains} (${s.counts.forced})`],
    ['interruptions', String(s.counts.interruptions)],
    ['cost so far', `$${s.costSoFar.toFixed(5)}`],
  ];
  const parts: string[] = [];
  parts.push(
    `<div class="figures">${figures.map(([k, v]) => `<div class="figure"><div class="k">${escapeHtml(k!)}</div><div class="v">${escapeHtml(v!)}</div></div>`).join('')}</div>`,
  );
  if (d)
    parts.push(
      `<p class="now" data-action="${d.action}">last decision: <b>${escapeHtml(d.action)}</b> to ${formatNumber(d.desiredUnits)} units — ${escapeHtml(d.reasons.map((r) => r.message).join(' · '))}${policy ? '' : ''}</p>`,
    );
  parts.push(`<div class="grid">${charts(s)}</div>`);
  parts.push('<h2>Fleet</h2>', fleetTable(s, statuses, nowMs));
  parts.push('<h2>Decisions, drains and interruptions</h2>', decisionTable(s));
  return parts.join('\n');
}

function charts(s: DashboardState): string {
  const samples = s.samples;
  if (samples.length < 2) return '<p class="empty">waiting for the loop’s first decisions…</p>';
  const startMs = samples[0]!.atMs;
  const intervalMs = (samples[samples.length - 1]!.atMs - startMs) / (samples.length - 1);
  // The forecast runs on past the last decision, for a quarter of the window shown.
  const ahead = Math.max(2, Math.round(samples.length / 4));
  const times = [
    ...samples.map((x) => x.atMs),
    ...Array.from({ length: ahead }, (_, i) => samples[samples.length - 1]!.atMs + (i + 1) * intervalMs),
  ];
  const fc = times.map((t) => s.forecastAt(t));
  const nan = Number.NaN;
  const common = { startMs, intervalMs, width: 560, height: 220 };
  const input = lineChart({
    ...common,
    title: 'Input rate, records/s (measured, offered, forecast with band)',
    series: [
      { name: 'measured', color: COLORS.input, values: samples.map((x) => x.liveRate ?? nan), area: true },
      ...(samples.some((x) => x.offeredRate !== undefined)
        ? [{ name: 'offered', color: COLORS.offered, values: samples.map((x) => x.offeredRate ?? nan) }]
        : []),
      { name: 'forecast', color: COLORS.forecast, values: fc.map((f) => f?.value ?? nan) },
      { name: 'band', color: COLORS.band, values: fc.map((f) => f?.upper ?? nan), dashed: true },
      { name: ' ', color: COLORS.band, values: fc.map((f) => f?.lower ?? nan), dashed: true },
    ],
  });
  const capacity = lineChart({
    ...common,
    title: 'Capacity, units (desired vs actual)',
    series: [
      { name: 'ready', color: COLORS.ready, values: samples.map((x) => x.readyUnits), area: true },
      { name: 'target', color: COLORS.target, values: samples.map((x) => x.targetUnits) },
      { name: 'desired', color: COLORS.desired, values: samples.map((x) => x.desiredUnits), dashed: true },
    ],
  });
  const util = lineChart({
    ...common,
    title: 'Utilization (planned load / capacity)',
    yMax: 1.2,
    yFormat: (v) => `${Math.round(v * 100)}%`,
    reference: { value: 0.75, label: 'target' },
    series: [{ name: 'utilization', color: COLORS.util, values: samples.map((x) => x.utilization ?? nan) }],
  });
  const lag = lineChart({
    ...common,
    title: 'Consumer lag, records',
    series: [{ name: 'lag', color: COLORS.lag, values: samples.map((x) => x.lagRecords ?? nan), area: true }],
  });
  return [input, capacity, util, lag].map((c) => `<div class="chart-box">${c}</div>`).join('');
}

function fleetTable(s: DashboardState, statuses: ReadonlyMap<string, WorkerStatus>, nowMs: number): string {
  const rows = (s.fleet?.instances ?? []).map((i) => {
    const st = statuses.get(i.instanceId);
    const draining = i.tags[DRAINING_TAG] !== undefined ? `draining (${i.tags[DRAIN_REASON_TAG] ?? ''})` : '';
    return `<tr data-instance="${escapeHtml(i.instanceId)}" data-state="${i.state}"><th>${escapeHtml(i.instanceId)}</th><td>${escapeHtml(i.instanceType)}</td><td>${escapeHtml(i.availabilityZone)}</td><td>${escapeHtml(i.state)}${draining ? ` · ${escapeHtml(draining)}` : ''}</td><td>${escapeHtml(st?.state ?? '–')}</td><td>${st ? st.ownedPartitions : '–'}</td><td>${st?.stateBytes !== undefined ? `${formatNumber(st.stateBytes)}B` : '–'}</td><td>${formatNumber(i.weightUnits)}</td><td>${Math.round((nowMs - i.launchTimeMs) / 1000)} s</td></tr>`;
  });
  if (rows.length === 0) return '<p class="empty">no instances yet</p>';
  return `<table class="summary fleet"><thead><tr><th>instance</th><th>type</th><th>zone</th><th>state</th><th>worker</th><th>partitions</th><th>state size</th><th>units</th><th>age</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function decisionTable(s: DashboardState): string {
  const rows = [...s.entries]
    .reverse()
    .slice(0, 40)
    .map(
      (e) =>
        `<tr class="kind-${escapeHtml(e.kind)}"><th>${new Date(e.atMs).toISOString().slice(11, 19)}</th><td>${escapeHtml(e.kind)}</td><td>${escapeHtml(e.summary)}${e.reasons.length ? `<div class="reasons">${e.reasons.map(escapeHtml).join('<br>')}</div>` : ''}</td></tr>`,
    );
  if (rows.length === 0) return '<p class="empty">no decisions yet</p>';
  return `<table class="summary decisions"><thead><tr><th>time (UTC)</th><th>kind</th><th>what and why</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const PAGE_STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;margin:16px auto;max-width:1200px;padding:0 16px;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:20px 0 6px;border-bottom:1px solid #e3e6ee;padding-bottom:4px}
.sub{color:#5a6275;margin:0 0 12px}.figures{display:grid;grid-template-columns:repeat(8,1fr);gap:6px;margin:8px 0}
.figure{border:1px solid #e3e6ee;border-radius:6px;padding:6px 8px}.figure .k{font-size:11px;color:#5a6275}.figure .v{font-size:17px;font-weight:600;font-variant-numeric:tabular-nums}
.grid{display:grid;grid-template-columns:repeat(2,1fr);gap:8px}.now{color:#3b4252;font-size:13px;margin:6px 0}
table.summary{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:12px}
table.summary th,table.summary td{padding:4px 6px;border-bottom:1px solid #eef0f5;text-align:left;vertical-align:top}
table.summary thead th{font-weight:600;color:#5a6275}.reasons{color:#5a6275;font-size:11px}
tr.kind-drain-started td,tr.kind-terminated td{color:#7b3fb2}tr.kind-interruption td{color:#b3261e;font-weight:600}
svg.chart{display:block;max-width:100%;height:auto}.chart-title{font-size:12px;font-weight:600;fill:#1d2330}.legend{font-size:10px;fill:#3b4252}
.tick{font-size:10px;fill:#6b7385}line.grid{stroke:#eef0f5;stroke-width:1}rect.frame{fill:none;stroke:#c9ceda;stroke-width:1}
line.reference{stroke:#b3261e;stroke-width:1;stroke-dasharray:4 3}.reference-label{fill:#b3261e}.empty{color:#6b7385}
#status{font-size:11px;color:#6b7385}
@media (max-width:900px){.grid{grid-template-columns:1fr}.figures{grid-template-columns:repeat(4,1fr)}}
`;

/** The page shell: it polls /fragment every `pollMs` and swaps the live part in (no build step, no library). */
export function renderPage(title: string, subtitle: string, pollMs: number): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${PAGE_STYLE}</style></head>
<body>
<h1>${escapeHtml(title)}</h1><p class="sub">${escapeHtml(subtitle)} <span id="status">connecting…</span></p>
<div id="live"></div>
<script>
const live = document.getElementById('live'), status = document.getElementById('status');
let updates = 0;
async function refresh() {
  try {
    const res = await fetch('/fragment', { cache: 'no-store' });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    live.innerHTML = await res.text();
    updates++;
    document.body.dataset.updates = String(updates);
    status.textContent = 'live · updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    status.textContent = 'disconnected (' + e.message + '); retrying';
  }
  setTimeout(refresh, ${pollMs});
}
refresh();
</script>
</body></html>
`;
}
