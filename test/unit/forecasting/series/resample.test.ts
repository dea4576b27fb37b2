import { describe, expect, it } from 'vitest';
import { resample } from '../../../../forecasting/series/resample.js';
import type { SeriesError } from '../../../../forecasting/series/series-types.js';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

describe('resample', () => {
  it('sums counts and averages gauges per bucket, merging duplicates', () => {
    const raw = {
      timestampsMs: [T0, T0 + 600_000, T0 + 600_000, T0 + H, T0 + 2 * H],
      values: [1, 2, 3, 10, 20],
    };
    const sum = resample(raw, { intervalMs: H, agg: 'sum' });
    expect(sum.values).toEqual([6, 10, 20]);
    expect(sum.report.duplicates).toBe(1);
    const mean = resample(raw, { intervalMs: H, agg: 'mean' });
    expect(mean.values).toEqual([2, 10, 20]);
    expect(mean.startMs).toBe(T0);
  });

  it('infers the interval from the median spacing despite jittered seconds', () => {
    const ts = Array.from({ length: 50 }, (_, i) => T0 + i * 300_000 + ((i * 7) % 13) * 1000);
    const s = resample({ timestampsMs: ts, values: ts.map(() => 1) }, { agg: 'mean' });
    expect(s.intervalMs).toBe(300_000);
    expect(s.report.intervalInferred).toBe(true);
    expect(s.values.every((v) => v === 1)).toBe(true);
  });

  it('interpolates short gaps and reports them, never NaN', () => {
    const raw = { timestampsMs: [T0, T0 + H, T0 + 4 * H, T0 + 5 * H], values: [0, 10, 40, 50] };
    const s = resample(raw, { intervalMs: H, agg: 'mean' });
    expect(s.values).toEqual([0, 10, 20, 30, 40, 50]);
    expect(s.report.gapsFilled).toBe(2);
    expect(s.report.longestGapSteps).toBe(2);
    expect(s.report.gaps).toEqual([{ startMs: T0 + 2 * H, steps: 2 }]);
  });

  it('fills a long gap with the same hours one day earlier when a week is not available', () => {
    const ts: number[] = [];
    const vs: number[] = [];
    for (let i = 0; i < 48; i++) {
      if (i >= 30 && i < 36) continue; // 6 h gap on day 2
      ts.push(T0 + i * H);
      vs.push(i % 24);
    }
    const s = resample({ timestampsMs: ts, values: vs }, { intervalMs: H, agg: 'sum' });
    expect(s.values.slice(30, 36)).toEqual([6, 7, 8, 9, 10, 11]);
  });

  it('rejects an interval that does not divide a day or is much finer than the data', () => {
    const raw = {
      timestampsMs: Array.from({ length: 20 }, (_, i) => T0 + i * H),
      values: new Array(20).fill(1),
    };
    expect(() => resample(raw, { intervalMs: 7 * 60_000, agg: 'mean' })).toThrow(/does not divide a day/);
    try {
      resample(raw, { intervalMs: 60_000, agg: 'mean' });
      expect.unreachable();
    } catch (err) {
      expect((err as SeriesError).code).toBe('BAD_INTERVAL');
      expect((err as SeriesError).message).toContain('use --interval 1h');
    }
  });
});
