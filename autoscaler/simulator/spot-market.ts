import { createRandom, type Random } from './seeded-random.js';
import type { SimInstanceType, SimMarketConfig } from './sim-config-schema.js';

const HOUR_MS = 3_600_000;

/** One capacity pool: an instance type in one availability zone. */
export interface SpotPool {
  index: number;
  type: SimInstanceType;
  az: string;
  /** `type@az`, as the planner names pools. */
  id: string;
}

/** One interruption event: at `timeMs`, AWS reclaims `fraction` of the pool's running instances. */
export interface InterruptionEvent {
  timeMs: number;
  fraction: number;
}

/**
 * The market every policy faces in one run: hourly spot prices and interruption events per pool,
 * drawn once from the seed, so policies are compared on the same prices and the same storms.
 */
export interface SpotMarket {
  pools: readonly SpotPool[];
  startMs: number;
  /** Spot price per hour of `pool` at `timeMs` (constant within each hour). */
  price(pool: number, timeMs: number): number;
  /** Interruption events per pool, sorted by time. */
  interruptions: readonly (readonly InterruptionEvent[])[];
}

export function listPools(types: readonly SimInstanceType[], azs: readonly string[]): SpotPool[] {
  const pools: SpotPool[] = [];
  for (const type of types)
    for (const az of azs) pools.push({ index: pools.length, type, az, id: `${type.name}@${az}` });
  return pools;
}

/**
 * Hourly spot price: an Ornstein–Uhlenbeck walk on log price around the type's base, so prices
 * wander (each AZ on its own) but come back, as spot prices have since the 2017 pricing change.
 */
export function priceWalk(
  base: number,
  hours: number,
  market: SimMarketConfig,
  rng: Random,
  ceiling: number,
): Float64Array {
  const out = new Float64Array(Math.max(1, hours));
  const mu = Math.log(base);
  // Start off the mean by about the walk's stationary spread, so pools do not all start at the base.
  let x = mu + 3 * market.priceVolatilityPerHour * rng.normal();
  for (let h = 0; h < out.length; h++) {
    out[h] = Math.min(ceiling, Math.exp(x));
    x += market.priceReversionPerHour * (mu - x) + market.priceVolatilityPerHour * rng.normal();
  }
  return out;
}

/**
 * Interruption events of one pool as a Hawkes (self-exciting) process, simulated by its branching
 * structure: background events arrive as a Poisson process at `ratePerDay`; every event spawns a
 * Poisson(branchingRatio) number of follow-ups after exponential delays (mean clusterMinutes).
 * So one interruption raises the pool's short-term rate: storms, as real reclaims come.
 */
export function hawkesEvents(
  startMs: number,
  endMs: number,
  ratePerDay: number,
  market: SimMarketConfig,
  rng: Random,
): InterruptionEvent[] {
  const times: number[] = [];
  if (ratePerDay > 0) {
    const meanGapMs = 86_400_000 / ratePerDay;
    for (let t = startMs + rng.exponential(meanGapMs); t < endMs; t += rng.exponential(meanGapMs))
      times.push(t);
  }
  const clusterMs = market.interruptionClusterMinutes * 60_000;
  for (let i = 0; i < times.length && times.length < 1_000_000; i++) {
    const parent = times[i] as number;
    const children = rng.poisson(market.interruptionBranchingRatio);
    for (let c = 0; c < children; c++) {
      const t = parent + rng.exponential(clusterMs);
      if (t < endMs) times.push(t);
    }
  }
  times.sort((a, b) => a - b);
  return times.map((timeMs) => ({
    timeMs,
    // Uniform on [0.5, 1.5] × mean, capped at 1: most events take part of a pool, some take it all.
    fraction: Math.min(1, market.interruptionFractionMean * (0.5 + rng.next())),
  }));
}

export function createSpotMarket(
  types: readonly SimInstanceType[],
  azs: readonly string[],
  market: SimMarketConfig,
  startMs: number,
  endMs: number,
  seed: number,
): SpotMarket {
  const pools = listPools(types, azs);
  const hours = Math.ceil((endMs - startMs) / HOUR_MS) + 1;
  const prices = pools.map((p) =>
    priceWalk(
      p.type.spotBasePricePerHour,
      hours,
      market,
      createRandom(seed, `price:${p.type.name}:${p.az}`),
      p.type.onDemandPricePerHour,
    ),
  );
  const interruptions = pools.map((p) =>
    hawkesEvents(
      startMs,
      endMs,
      p.type.interruptionEventsPerPoolPerDay,
      market,
      createRandom(seed, `interrupt:${p.type.name}:${p.az}`),
    ),
  );
  return {
    pools,
    startMs,
    interruptions,
    price(pool, timeMs) {
      const series = prices[pool] as Float64Array;
      const h = Math.min(series.length - 1, Math.max(0, Math.floor((timeMs - startMs) / HOUR_MS)));
      return series[h] as number;
    },
  };
}
