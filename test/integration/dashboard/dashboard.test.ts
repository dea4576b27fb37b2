import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliProcess, eventually, repoRoot, startCli } from '../helpers/cli-process.js';

const running: CliProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

interface ApiState {
  samples: { liveRate?: number }[];
  entries: { kind: string; summary: string }[];
  fleet: { instances: unknown[] } | null;
}

describe('dashboard in a real browser', () => {
  it('renders the charts, the fleet and the decision log with live data while the demo runs', async () => {
    const demo = startCli(['demo', '--duration', '100s', '--ui', '0'], {
      name: 'dashboard-demo',
      env: { LIVEAGG_LOG_LEVEL: 'warn' },
    });
    running.push(demo);
    const url = await eventually(
      async () => /dashboard at (http:\/\/\S+)/.exec(readFileSync(demo.logFile, 'utf8'))?.[1],
      120_000,
      'the dashboard URL',
    );
    // Live data: measured input and a scale-out decision.
    await eventually(
      async () => {
        const s = (await (await fetch(`${url}api/state`)).json()) as ApiState;
        const measured = s.samples.filter((x) => x.liveRate !== undefined).length;
        return measured >= 5 && s.entries.some((e) => e.kind === 'set-target') ? s : undefined;
      },
      90_000,
      'measured input and a scale-out',
    );

    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
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
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(url);
      // Two polls at least: the page updates itself.
      await page.waitForSelector('body[data-updates]:not([data-updates="1"])', { timeout: 20_000 });
      expect(await page.locator('svg.chart').count()).toBe(4);
      const points = Number(await page.locator('path[data-series="measured"]').getAttribute('data-points'));
      expect(points).toBeGreaterThanOrEqual(5);
      expect(await page.locator('path[data-series="forecast"]').count()).toBe(1);
      expect(await page.locator('table.fleet tbody tr').count()).toBeGreaterThanOrEqual(1);
      expect(await page.locator('table.decisions tbody tr').count()).toBeGreaterThanOrEqual(3);
      await expect(page.locator('table.decisions').textContent()).resolves.toContain('set-target');
      expect(await page.locator('#status').textContent()).toContain('live');
      const dir = join(repoRoot, 'test-artifacts');
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, 'dashboard.png'), fullPage: true });
    } finally {
      await browser.close();
    }
    // The demo then ends by itself, drains every worker and passes its no-loss check.
    expect(await demo.exited).toBe(0);
  }, 300_000);
});
