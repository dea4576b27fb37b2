import { decomposition } from './decomposition.js';
import { holtWintersDouble } from './holt-winters.js';
import type { ForecastModel } from './model-types.js';
import { seasonalNaiveBlend } from './seasonal-naive.js';

const MEMBERS = [seasonalNaiveBlend, decomposition, holtWintersDouble];

/**
 * Mean of the blend, the decomposition and double-seasonal Holt-Winters (those the history
 * supports). Their errors are only partly correlated, so the mean is usually steadier than any one.
 */
export const ensemble: ForecastModel = {
  name: 'ensemble',
  description: 'mean of seasonal-naive-blend, decomposition and holt-winters-double',
  members: MEMBERS,
  minHistory: (s) => Math.min(...MEMBERS.map((m) => m.minHistory(s))),
  predict(history, horizon, seasons) {
    const out = new Float64Array(horizon);
    let used = 0;
    for (const m of MEMBERS) {
      if (history.length < m.minHistory(seasons)) continue;
      const f = m.predict(history, horizon, seasons);
      for (let h = 0; h < horizon; h++) out[h] = (out[h] ?? 0) + (f[h] ?? 0);
      used++;
    }
    for (let h = 0; h < horizon; h++) out[h] = (out[h] ?? 0) / Math.max(1, used);
    return out;
  },
};
