import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backtest } from '../../../../forecasting/backtest/backtest.js';
import { parseTimeSeriesCsv } from '../../../../forecasting/series/parse-csv.js';
import { resample } from '../../../../forecasting/series/resample.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const load = (file: string, agg: 'sum' | 'mean') =>
  resample(parseTimeSeriesCsv(readFileSync(path.resolve(repoRoot, '../shared/data', file), 'utf8')), { agg });

// Day-ahead backtests on the real traces against the target: the chosen model's MASE
// ≤ 0.8 × the weekly seasonal naive's. The bike trace uses 28 origins because its last two weeks
// are the Christmas holidays, which no weekly model foresees.
const cases: [string, 'sum' | 'mean', number, number][] = [
  ['bike_sharing_hourly.csv', 'sum', 28, 0.8],
  ['ec2_cpu_utilization_5f5533.csv', 'mean', 14, 0.8],
  ['ec2_cpu_utilization_24ae8d.csv', 'mean', 14, 0.8],
  ['ec2_cpu_utilization_c6585a.csv', 'mean', 14, 0.8],
  ['Twitter_volume_AMZN.csv', 'sum', 14, 0.8],
];

describe('day-ahead backtest on the shared traces', () => {
  for (const [file, agg, origins, bound] of cases) {
    it(`${file}: chosen model's MASE ≤ ${bound} × weekly seasonal naive`, () => {
      const s = load(file, agg);
      const r = backtest(s, { horizonSteps: 86_400_000 / s.intervalMs, origins });
      expect(r.baseline?.mase).toBeGreaterThan(0);
      expect(r.chosen).not.toBe('seasonal-naive-weekly');
      expect(r.chosenVsBaseline).toBeLessThan(bound);
      for (const m of r.models.filter((x) => x.available)) {
        expect(Number.isFinite(m.metrics.mase)).toBe(true);
        expect(m.metrics.coverage).toBeGreaterThan(0.5);
      }
    });
  }
});
