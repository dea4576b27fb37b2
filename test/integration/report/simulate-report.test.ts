import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveaggPolicy } from '../../../autoscaler/simulator/liveagg-policy.js';
import { simConfigSchema } from '../../../autoscaler/simulator/sim-config-schema.js';
import { baselineFactories, simulate } from '../../../autoscaler/simulator/simulate.js';
import { traceFromCsv } from '../../../autoscaler/simulator/trace-input.js';
import { renderSimulationReport } from '../../../infra/report/simulate-report.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const artifacts = path.join(repoRoot, 'test-artifacts', 'report');
/** Debian's `chromium` package; CI installs it (apt-get install -y chromium). */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

describe('simulate HTML report in headless Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('draws every chart with its points and the summary table, offline', async () => {
    const csv = readFileSync(path.resolve(repoRoot, '../shared/data/ec2_cpu_utilization_5f5533.csv'), 'utf8');
    const config = simConfigSchema.parse({});
    const result = simulate({
      trace: traceFromCsv(csv),
      traceName: 'ec2_cpu_utilization_5f5533.csv',
      peakRate: 200_000,
      seed: 1,
      stepMs: 60_000,
      config,
      policies: {
        ...baselineFactories,
        liveagg: (ctx) => new LiveaggPolicy({ config, forecastIntervalMs: 300_000, startMs: ctx.startMs }),
      },
    });
    const html = renderSimulationReport(result);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    await mkdir(artifacts, { recursive: true });
    const file = path.join(artifacts, 'simulate-report.html');
    await writeFile(file, html);

    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(`file://${file}`);
    const rows = await page.$$eval('table.summary tbody tr', (trs) =>
      trs.map((tr) => tr.getAttribute('data-policy')),
    );
    expect(rows).toEqual(['liveagg', 'target-tracking', 'lag-reactive', 'static-peak']);
    const charts = await page.$$eval('svg.chart', (svgs) =>
      svgs.map((svg) => ({
        title: svg.getAttribute('aria-label'),
        paths: [...svg.querySelectorAll('path.series')].map((p) => ({
          points: Number(p.getAttribute('data-points')),
          segments: (p.getAttribute('d') ?? '').split(/[ML]/).length - 1,
          width: (p as unknown as { getBBox(): { width: number } }).getBBox().width,
        })),
      })),
    );
    // 4 peak-week panels, utilization, lag, cost per day, 4 whole-run panels.
    expect(charts.length).toBe(11);
    for (const chart of charts) {
      expect(chart.paths.length, chart.title ?? '').toBeGreaterThan(0);
      for (const p of chart.paths) {
        expect(p.points).toBeGreaterThan(1);
        expect(p.segments).toBe(p.points);
        expect(p.width).toBeGreaterThan(100);
      }
    }
    expect(requests).toEqual([]);
    await page.screenshot({ path: path.join(artifacts, 'simulate-report.png'), fullPage: true });
    await page.close();
  });
});
