import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { computeCostReport, type HourlyWork, type UsageInstance } from '../../../infra/cost/cost-model.js';
import { renderCostReport } from '../../../infra/cost/cost-report-html.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 20);
const executablePath = process.env['LA_CHROMIUM'] ?? '/usr/bin/chromium';

/** Three days of a small fleet: a daily wave of load, one instance drained, one interrupted. */
function syntheticReport() {
  const instances: UsageInstance[] = [];
  const work: HourlyWork[] = [];
  for (let n = 0; n < 6; n++) {
    const id = `i-${n}`;
    const inst: UsageInstance = {
      instanceId: id,
      instanceType: n % 2 ? 'c6i.xlarge' : 'm6i.xlarge',
      availabilityZone: `us-east-1${'abc'[n % 3]}`,
      market: 'spot',
      startMs: T0 + n * 4 * H,
      endMs: n === 5 ? T0 + 50 * H : T0 + 72 * H,
      vcpu: 4,
      interrupted: n === 4,
      ...(n === 5 ? { drainStartMs: T0 + 49.5 * H } : {}),
    };
    if (n === 4) inst.endMs = T0 + 30 * H;
    instances.push(inst);
    for (let h = 0; h < 72; h++) {
      const load = 0.5 + 0.35 * Math.sin((2 * Math.PI * h) / 24);
      work.push({
        instanceId: id,
        hourStartMs: T0 + h * H,
        busyCpuSeconds: load * 4 * 3600,
        records: load * 1e6,
      });
    }
  }
  return computeCostReport({
    sinceMs: T0,
    untilMs: T0 + 72 * H,
    instances,
    spotPrices: ['m6i.xlarge', 'c6i.xlarge'].flatMap((t) =>
      ['a', 'b', 'c'].map((az, i) => ({
        instanceType: t,
        availabilityZone: `us-east-1${az}`,
        timestampMs: T0 - H,
        pricePerHour: 0.06 + i * 0.01,
      })),
    ),
    onDemandPerHour: (t) => ({ 'm6i.xlarge': 0.192, 'c6i.xlarge': 0.17 })[t],
    work,
    replayedRecords: 120_000,
  });
}

describe('cost report HTML in headless Chromium', () => {
  it('draws every chart with visible series and the tables', async () => {
    expect(existsSync(executablePath), `Chromium at ${executablePath} (apt-get install chromium)`).toBe(true);
    const html = renderCostReport(syntheticReport(), {
      fleet: 'aws:autoscaling:groupName=liveagg-workers',
      priceTable: { date: '2025-06-01', source: 'test table' },
    });
    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.setContent(html);
      const charts = await page.$$eval('svg.chart', (svgs) =>
        svgs.map((svg) => ({
          title: svg.getAttribute('aria-label'),
          series: [...svg.querySelectorAll('path.series')].map((p) => {
            // Runs in the page: getBBox exists on SVG elements (no DOM lib in this tsconfig).
            const box = (p as unknown as { getBBox(): { width: number; height: number } }).getBBox();
            return { name: p.getAttribute('data-series'), width: box.width, height: box.height };
          }),
        })),
      );
      expect(charts.map((c) => c.title)).toEqual([
        'vCPU per hour: paid capacity vs busy',
        'Utilization (busy / paid vCPU)',
        'Cost per day',
      ]);
      for (const chart of charts) {
        expect(chart.series.length).toBeGreaterThan(0);
        // Each line spans most of the plot horizontally (it drew, over the whole window).
        for (const s of chart.series.filter((x) => x.name !== 'drain time'))
          expect(s.width).toBeGreaterThan(400);
      }
      const poolRows = await page.$$eval(
        'table.summary',
        (tables) => tables[1]?.querySelectorAll('tbody tr').length ?? 0,
      );
      expect(poolRows).toBe(6);
      expect(await page.textContent('body')).toContain('interruption headroom');
    } finally {
      await browser.close();
    }
  });
});
