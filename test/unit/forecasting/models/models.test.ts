import { describe, expect, it } from 'vitest';
import { decomposition } from '../../../../forecasting/models/decomposition.js';
import { holtWintersDouble, holtWintersWeekly } from '../../../../forecasting/models/holt-winters.js';
import {
  seasonalNaiveBlend,
  seasonalNaiveDaily,
  seasonalNaiveWeekly,
} from '../../../../forecasting/models/seasonal-naive.js';

const seasons = { day: 24, week: 168 };
/** Level 100, daily wave, weekend dip, optional linear trend per step. */
function synthetic(n: number, trendPerStep = 0): Float64Array {
  return Float64Array.from({ length: n }, (_, t) => {
    const daily = 20 * Math.sin((2 * Math.PI * (t % 24)) / 24);
    const weekend = t % 168 >= 120 ? -30 : 0;
    return 100 + daily + weekend + trendPerStep * t;
  });
}

describe('seasonal naive', () => {
  it('repeats the value one week (or day) earlier exactly', () => {
    const x = Float64Array.from({ length: 400 }, (_, i) => i);
    const w = seasonalNaiveWeekly.predict(x, 200, seasons);
    expect(w[0]).toBe(400 - 168);
    expect(w[167]).toBe(399);
    expect(w[168]).toBe(400 - 168); // beyond one week: repeats the last observed week
    const d = seasonalNaiveDaily.predict(x, 30, seasons);
    expect(Array.from(d.slice(0, 3))).toEqual([376, 377, 378]);
    expect(d[24]).toBe(376);
  });

  it('blend ignores one bad week and is exact on a purely seasonal series', () => {
    const x = synthetic(5 * 168);
    const expected = synthetic(6 * 168).subarray(5 * 168);
    const poisoned = Float64Array.from(x);
    for (let t = 2 * 168; t < 3 * 168; t++) poisoned[t] = 0; // outage week
    const f = seasonalNaiveBlend.predict(poisoned, 168, seasons);
    for (let h = 0; h < 168; h++) expect(f[h]).toBeCloseTo(expected[h] ?? 0, 9);
  });
});

describe('Holt-Winters', () => {
  it('forecasts a pure weekly-seasonal series with a linear trend exactly', () => {
    const all = synthetic(5 * 168 + 48, 0.05);
    const f = holtWintersWeekly.predict(all.subarray(0, 5 * 168), 48, seasons);
    for (let h = 0; h < 48; h++) expect(f[h]).toBeCloseTo(all[5 * 168 + h] ?? 0, 6);
  });

  it('double-seasonal forecasts a pure daily + weekly series closely', () => {
    const all = synthetic(4 * 168 + 24);
    const f = holtWintersDouble.predict(all.subarray(0, 4 * 168), 24, seasons);
    for (let h = 0; h < 24; h++) expect(f[h]).toBeCloseTo(all[4 * 168 + h] ?? 0, 6);
  });
});

describe('decomposition', () => {
  it('recovers profile and trend despite spikes', () => {
    const all = synthetic(6 * 168 + 24, 0.02);
    const hist = Float64Array.from(all.subarray(0, 6 * 168));
    for (let t = 50; t < hist.length; t += 97) hist[t] = (hist[t] ?? 0) * 10; // spikes
    const f = decomposition.predict(hist, 24, seasons);
    for (let h = 0; h < 24; h++) expect(Math.abs((f[h] ?? 0) - (all[6 * 168 + h] ?? 0))).toBeLessThan(1);
  });

  it('works with two days of history (daily profile) and needs no more', () => {
    expect(decomposition.minHistory(seasons)).toBe(48);
    const f = decomposition.predict(synthetic(48), 24, seasons);
    expect(f.every(Number.isFinite)).toBe(true);
  });
});
