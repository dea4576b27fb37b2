/** One line on a chart. */
export interface ChartSeries {
  name: string;
  color: string;
  values: readonly number[];
  /** Draw as a filled area under the line (e.g. load), behind the lines. */
  area?: boolean;
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  /** Start of the x axis and width of one value, epoch ms. */
  startMs: number;
  intervalMs: number;
  series: readonly ChartSeries[];
  yFormat?: (v: number) => string;
  /** A horizontal reference line (e.g. the lag SLO). */
  reference?: { value: number; label: string };
  /** Fix the y range's top (e.g. 1 for utilization); default: max of the data. */
  yMax?: number;
  width?: number;
  height?: number;
}

const PAD = { left: 64, right: 16, top: 28, bottom: 36 };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Compact number: 1.2M, 35k, 0.85. */
export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e3) return `${trim(v / 1e3)}k`;
  if (a === 0) return '0';
  if (a < 0.01) return v.toExponential(1);
  return trim(v);
}

function trim(v: number): string {
  const text = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
  // Drop trailing zeros of the fraction only (100 stays 100, 2.50 becomes 2.5).
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** "Nice" tick step covering `range` in about `count` ticks. */
function tickStep(range: number, count: number): number {
  const raw = range / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/**
 * A self-contained SVG line chart (no library, no script): axes with ticks, one path per series
 * (optionally a filled area), a legend, and an optional reference line. Values are plotted at
 * `startMs + i × intervalMs`.
 */
export function lineChart(opts: LineChartOptions): string {
  const width = opts.width ?? 900;
  const height = opts.height ?? 240;
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const n = Math.max(1, ...opts.series.map((s) => s.values.length));
  const dataMax = Math.max(
    0,
    ...opts.series.flatMap((s) => s.values.filter(Number.isFinite)),
    opts.reference?.value ?? 0,
  );
  const yTop = opts.yMax ?? (dataMax > 0 ? dataMax * 1.05 : 1);
  const fmt = opts.yFormat ?? formatNumber;
  const x = (i: number) => PAD.left + (n <= 1 ? 0 : (i / (n - 1)) * plotW);
  const y = (v: number) => PAD.top + plotH - (Math.min(Math.max(v, 0), yTop) / yTop) * plotH;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(opts.title)}">`,
  );
  parts.push(`<text x="${PAD.left}" y="18" class="chart-title">${escapeHtml(opts.title)}</text>`);
  const step = tickStep(yTop, 4);
  for (let v = 0; v <= yTop + 1e-9; v += step) {
    parts.push(
      `<line x1="${PAD.left}" x2="${width - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`,
      `<text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" class="tick" text-anchor="end">${escapeHtml(fmt(v))}</text>`,
    );
  }
  const ticks = timeTicks(opts.startMs, opts.intervalMs, n, width < 600 ? 3 : 5);
  ticks.forEach((t, k) => {
    const xi = x(t.index).toFixed(1);
    const anchor = k === 0 ? 'start' : k === ticks.length - 1 ? 'end' : 'middle';
    parts.push(
      `<line x1="${xi}" x2="${xi}" y1="${PAD.top}" y2="${PAD.top + plotH}" class="grid"/>`,
      `<text x="${xi}" y="${height - PAD.bottom + 16}" class="tick" text-anchor="${anchor}">${escapeHtml(t.label)}</text>`,
    );
  });
  const ordered = [...opts.series.filter((s) => s.area), ...opts.series.filter((s) => !s.area)];
  for (const s of ordered) {
    const d = pathData(s.values, x, y);
    if (d === '') continue;
    if (s.area) {
      const last = Math.max(0, s.values.length - 1);
      parts.push(
        `<path d="${d} L${x(last).toFixed(1)},${y(0).toFixed(1)} L${x(0).toFixed(1)},${y(0).toFixed(1)} Z" fill="${s.color}" fill-opacity="0.18" stroke="none" class="area"/>`,
      );
    }
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.area ? 1 : 1.5}"${s.dashed ? ' stroke-dasharray="5 3"' : ''} class="series" data-series="${escapeHtml(s.name)}" data-points="${s.values.length}"/>`,
    );
  }
  if (opts.reference) {
    const ry = y(opts.reference.value).toFixed(1);
    parts.push(
      `<line x1="${PAD.left}" x2="${width - PAD.right}" y1="${ry}" y2="${ry}" class="reference"/>`,
      `<text x="${width - PAD.right - 4}" y="${(Number(ry) - 4).toFixed(1)}" class="tick reference-label" text-anchor="end">${escapeHtml(opts.reference.label)}</text>`,
    );
  }
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" class="frame"/>`);
  // Legend after the title (about 7 px per character at 13 px bold).
  let lx = PAD.left + opts.title.length * 7.2 + 20;
  for (const s of opts.series) {
    parts.push(
      `<rect x="${lx}" y="9" width="12" height="10" fill="${s.color}"${s.area ? ' fill-opacity="0.4"' : ''}/>`,
      `<text x="${lx + 16}" y="18" class="legend">${escapeHtml(s.name)}</text>`,
    );
    lx += 24 + s.name.length * 7;
  }
  parts.push('</svg>');
  return parts.join('');
}

/** SVG path through the finite values ("M x,y L x,y …"). */
function pathData(values: readonly number[], x: (i: number) => number, y: (v: number) => number): string {
  const out: string[] = [];
  let pen = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) {
      pen = false;
      continue;
    }
    out.push(`${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    pen = true;
  }
  return out.join(' ');
}

/** About six date ticks over the span, labelled by day (or hour for spans under two days). */
function timeTicks(
  startMs: number,
  intervalMs: number,
  n: number,
  parts: number,
): { index: number; label: string }[] {
  const span = intervalMs * Math.max(1, n - 1);
  const out: { index: number; label: string }[] = [];
  for (let k = 0; k <= parts; k++) {
    const index = Math.round(((n - 1) * k) / parts);
    const d = new Date(startMs + (span * k) / parts);
    const iso = d.toISOString();
    out.push({ index, label: span < 2 * 86_400_000 ? iso.slice(11, 16) : iso.slice(0, 10) });
  }
  return out;
}
