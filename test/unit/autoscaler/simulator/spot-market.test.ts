import { describe, expect, it } from 'vitest';
import { createRandom } from '../../../../autoscaler/simulator/seeded-random.js';
import { simMarketSchema } from '../../../../autoscaler/simulator/sim-config-schema.js';
import { hawkesEvents, priceWalk } from '../../../../autoscaler/simulator/spot-market.js';

const YEAR_MS = 365 * 86_400_000;
const market = simMarketSchema.parse({});

/** Share of inter-event gaps shorter than `ms`. */
function shortGapShare(times: number[], ms: number): number {
  let short = 0;
  for (let i = 1; i < times.length; i++) if ((times[i] as number) - (times[i - 1] as number) < ms) short++;
  return short / Math.max(1, times.length - 1);
}

describe('spot market', () => {
  it('draws the same interruptions for the same seed and pool, different ones for another seed', () => {
    const a = hawkesEvents(0, YEAR_MS, 0.5, market, createRandom(7, 'interrupt:c6i.2xlarge:us-east-1a'));
    const b = hawkesEvents(0, YEAR_MS, 0.5, market, createRandom(7, 'interrupt:c6i.2xlarge:us-east-1a'));
    const c = hawkesEvents(0, YEAR_MS, 0.5, market, createRandom(8, 'interrupt:c6i.2xlarge:us-east-1a'));
    expect(a.length).toBeGreaterThan(50);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('clusters interruptions in time: many more short gaps than a Poisson process of the same rate', () => {
    const clustered = hawkesEvents(0, YEAR_MS, 0.5, market, createRandom(1, 'x')).map((e) => e.timeMs);
    const poisson = hawkesEvents(
      0,
      YEAR_MS,
      0.5,
      { ...market, interruptionBranchingRatio: 0 },
      createRandom(1, 'x'),
    ).map((e) => e.timeMs);
    const hour = 3_600_000;
    // Background rate 0.5/day: a Poisson gap is under an hour ~2 % of the time; follow-ups (mean 30 min) make it common.
    expect(shortGapShare(poisson, hour)).toBeLessThan(0.06);
    expect(shortGapShare(clustered, hour)).toBeGreaterThan(0.25);
    // Branching ratio 0.6: about 1 / (1 − 0.6) = 2.5× as many events.
    expect(clustered.length / poisson.length).toBeGreaterThan(1.8);
    expect(clustered.length / poisson.length).toBeLessThan(3.3);
  });

  it('keeps each event fraction in (0, 1] and events sorted', () => {
    const ev = hawkesEvents(0, YEAR_MS, 1, market, createRandom(3, 'y'));
    for (let i = 0; i < ev.length; i++) {
      expect(ev[i]?.fraction).toBeGreaterThan(0);
      expect(ev[i]?.fraction).toBeLessThanOrEqual(1);
      if (i > 0) expect(ev[i]?.timeMs).toBeGreaterThanOrEqual(ev[i - 1]?.timeMs ?? 0);
    }
  });

  it('walks spot prices around the base, below the on-demand ceiling', () => {
    const prices = priceWalk(0.13, 24 * 365, market, createRandom(1, 'p'), 0.34);
    const mean = prices.reduce((a, b) => a + b, 0) / prices.length;
    expect(mean).toBeGreaterThan(0.13 * 0.8);
    expect(mean).toBeLessThan(0.13 * 1.25);
    expect(Math.max(...prices)).toBeLessThanOrEqual(0.34);
    expect(new Set(prices).size).toBeGreaterThan(100);
  });
});
