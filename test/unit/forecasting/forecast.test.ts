import { describe, expect, it } from 'vitest';
import { forecastSeries } from '../../../forecasting/forecast.js';
import type { RegularSeries, SeriesError } from '../../../forecasting/series/series-types.js';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

function series(n: number, noise = 0): RegularSeries {
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  const values = Array.from(
    { length: n },
    (_, t) =>
      100 + 40 * Math.sin((2 * Math.PI * (t % 24)) / 24) + (t % 168 >= 120 ? -30 : 0) + noise * rand(),
  );
  return {
    startMs: T0,
    intervalMs: H,
    values,
    report: {
      inputPoints: n,
      gapsFilled: 0,
      duplicates: 0,
      outOfOrder: 0,
      intervalInferred: false,
      longestGapSteps: 0,
      gaps: [],
    },
  };
}

describe('forecastSeries', () => {
  it('forecasts the horizon after the last point with ordered, finite intervals', () => {
    const s = series(6 * 168, 10);
    const f = forecastSeries(s, { horizonSteps: 24 });
    expect(f.points).toHaveLength(24);
    expect(f.points[0]?.timestampMs).toBe(T0 + 6 * 168 * H);
    expect(f.points[23]?.timestampMs).toBe(T0 + (6 * 168 + 23) * H);
    for (const p of f.points) {
      expect([p.value, p.lower, p.upper].every(Number.isFinite)).toBe(true);
      expect(p.lower).toBeLessThanOrEqual(p.value);
      expect(p.upper).toBeGreaterThanOrEqual(p.value);
    }
    expect(f.model).not.toBe('seasonal-naive-weekly');
    expect(f.points.some((p) => p.upper - p.lower > 1)).toBe(true);
  });

  it('wider coverage gives intervals at least as wide', () => {
    const s = series(6 * 168, 10);
    const narrow = forecastSeries(s, { horizonSteps: 24, coverage: 0.5 });
    const wide = forecastSeries(s, { horizonSteps: 24, coverage: 0.95 });
    const width = (f: typeof narrow) => f.points.reduce((a, p) => a + p.upper - p.lower, 0);
    expect(width(wide)).toBeGreaterThan(width(narrow));
  });

  it('falls back and says so when history is too short for the weekly models', () => {
    const f = forecastSeries(series(3 * 24, 5), { horizonSteps: 24, model: 'holt-winters-weekly' });
    expect(f.model).toBe('decomposition');
    expect(f.notes?.join(' ')).toMatch(/holt-winters-weekly needs 192 steps \(8d at 1h\)/);
    expect(f.points.every((p) => Number.isFinite(p.value))).toBe(true);
    const auto = forecastSeries(series(2 * 24 + 5, 5), { horizonSteps: 24 });
    expect(['decomposition', 'seasonal-naive-daily']).toContain(auto.model);
  });

  it('refuses less than a day of history, naming what is needed', () => {
    try {
      forecastSeries(series(10), { horizonSteps: 5 });
      expect.unreachable();
    } catch (err) {
      expect((err as SeriesError).code).toBe('TOO_LITTLE_HISTORY');
      expect((err as SeriesError).message).toContain('at least 24 steps');
    }
  });

  it('reuses the model selection while the series grows by less than a day, then redoes it', () => {
    // Its own start, so no selection cached by the other tests applies.
    const full = { ...series(6 * 168 + 30, 10), startMs: T0 - 1000 * H };
    const at = (n: number) => ({ ...full, values: full.values.slice(0, n) });
    const first = forecastSeries(at(6 * 168), { horizonSteps: 24 });
    expect(first.notes?.join(' ')).toMatch(/chosen by backtest/);
    const tick = forecastSeries(at(6 * 168 + 3), { horizonSteps: 24 });
    expect(tick.model).toBe(first.model);
    expect(tick.notes?.join(' ')).toMatch(/reused from 3 steps earlier/);
    expect(tick.points[0]?.timestampMs).toBe(full.startMs + (6 * 168 + 3) * H);
    const nextDay = forecastSeries(at(6 * 168 + 30), { horizonSteps: 24 });
    expect(nextDay.notes?.join(' ')).not.toMatch(/reused/);
    const changed = at(6 * 168 + 4);
    changed.values[0] = 999; // not the same series: no reuse
    expect(forecastSeries(changed, { horizonSteps: 24 }).notes?.join(' ')).not.toMatch(/reused/);
  });

  it('a holiday (a zero day) a week ago does not drag the same weekday down', () => {
    const s = { ...series(6 * 168, 4), startMs: T0 - 2000 * H };
    const values = s.values.slice();
    for (let t = 5 * 168; t < 5 * 168 + 24; t++) values[t] = 0; // holiday exactly one week before the horizon
    const clean = series(6 * 168 + 24, 4).values.slice(6 * 168);
    for (const model of ['auto', 'decomposition', 'seasonal-naive-blend']) {
      const f = forecastSeries({ ...s, values }, { horizonSteps: 24, model });
      const mae = f.points.reduce((a, p, h) => a + Math.abs(p.value - (clean[h] ?? 0)), 0) / 24;
      expect(mae, model).toBeLessThan(10); // the weekly naive would be off by ~100
    }
  });

  it('rejects an unknown model by listing the valid names', () => {
    expect(() => forecastSeries(series(200), { horizonSteps: 5, model: 'prophet' })).toThrow(
      /use auto or one of/,
    );
  });
});
