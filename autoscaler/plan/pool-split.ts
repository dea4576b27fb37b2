import type { AutoscalerPolicy, InstanceTypeSpec } from '../policy/policy-schema.js';
import { type FleetInstance, type PoolId, poolIdOf } from '../ports/fleet-provider.js';

/** Pools usable now: the policy's pools minus those backing off after insufficient capacity or interruptions. */
export function availablePools(
  policy: AutoscalerPolicy,
  unavailableUntilMs: Readonly<Record<PoolId, number>>,
  now: number,
): PoolId[] {
  const all = policy.pools.map(poolIdOf);
  const open = all.filter((p) => (unavailableUntilMs[p] ?? 0) <= now);
  // With every pool backing off, any pool is better than none.
  return open.length > 0 ? open : all;
}

/** Fraction of planned units per instance type when units go evenly over `pools`. */
export function typeMix(pools: readonly PoolId[]): Map<string, number> {
  const mix = new Map<string, number>();
  for (const p of pools) {
    const type = p.slice(0, p.lastIndexOf('@'));
    mix.set(type, (mix.get(type) ?? 0) + 1 / pools.length);
  }
  return mix;
}

const poolIds = new WeakMap<FleetInstance, PoolId>();

/** {@link poolIdOf} memoized per instance object (fleet snapshots reuse unchanged instance objects). */
export function instancePoolId(i: FleetInstance): PoolId {
  let id = poolIds.get(i);
  if (id === undefined) {
    id = poolIdOf(i);
    poolIds.set(i, id);
  }
  return id;
}

/** Units per pool held by live instances (and per-pool targets when the fleet reports them). */
export function currentPoolUnits(
  instances: readonly FleetInstance[],
  perPoolTarget: Readonly<Record<PoolId, number>> | undefined,
): Map<PoolId, number> {
  const units = new Map<PoolId, number>();
  for (const i of instances) {
    const id = instancePoolId(i);
    units.set(id, (units.get(id) ?? 0) + i.weightUnits);
  }
  for (const [id, target] of Object.entries(perPoolTarget ?? {})) {
    units.set(id, Math.max(units.get(id) ?? 0, target));
  }
  return units;
}

/**
 * Splits `totalUnits` over pools: start from what each pool holds (moving capacity costs a drain), then give
 * added units to the emptiest open pool, cheapest per unit on ties, so the largest pool stays as small as it can.
 * When the total is below what pools hold, the fullest pools shrink first.
 */
export function splitPerPool(
  totalUnits: number,
  current: ReadonlyMap<PoolId, number>,
  open: readonly PoolId[],
  types: ReadonlyMap<string, InstanceTypeSpec>,
): Record<PoolId, number> {
  const split = new Map<PoolId, number>();
  for (const [id, u] of current) split.set(id, u);
  for (const id of open) if (!split.has(id)) split.set(id, 0);
  // Per-pool constants computed once (the planner calls this several times per decision, every tick).
  const specOf = (id: PoolId) => types.get(id.slice(0, id.lastIndexOf('@')));
  const price = (id: PoolId) => {
    const spec = specOf(id);
    return spec?.spotPriceHintPerHour !== undefined ? spec.spotPriceHintPerHour / spec.weight : 0;
  };
  const weightOf = (id: PoolId) => specOf(id)?.weight ?? 1;
  let sum = 0;
  for (const u of split.values()) sum += u;
  if (sum < totalUnits - 1e-9 && open.length > 0) {
    // Water-filling in cost space: pool p is filled to L / r_p, where r_p = (its price per unit / the cheapest)²,
    // so cheaper pools get more while every open pool still gets some (the pool-loss headroom bounds the rest).
    // L solves Σ max(0, L / r_p − u_p) = what is missing; whole instances (floor), then one instance at a time
    // to the pool with the lowest (u + w) × r_p.
    const n = open.length;
    const prices = open.map(price);
    const weights = open.map(weightOf);
    const positive = prices.filter((x) => x > 0);
    const cheapest = positive.length > 0 ? Math.min(...positive) : 0;
    const rel = prices.map((x) => (cheapest > 0 && x > 0 ? (x / cheapest) ** 2 : 1));
    const units = open.map((id) => split.get(id)!);
    const level = costWaterLevel(
      units.map((u, k) => ({ u, r: rel[k]! })),
      totalUnits - sum,
    );
    for (let k = 0; k < n; k++) {
      const u = units[k]!;
      const goal = level / rel[k]!;
      if (u >= goal) continue;
      const w = weights[k]!;
      const add = Math.floor((goal - u) / w + 1e-9) * w;
      units[k] = u + add;
      sum += add;
    }
    for (let guard = 0; sum < totalUnits - 1e-9 && guard < 4 * n; guard++) {
      // The pool with the lowest score, then lowest price, then first by name (a linear scan, not a sort).
      let low = 0;
      let lowScore = (units[0]! + weights[0]!) * rel[0]!;
      for (let k = 1; k < n; k++) {
        const score = (units[k]! + weights[k]!) * rel[k]!;
        const better =
          score < lowScore ||
          (score === lowScore &&
            (prices[k]! < prices[low]! ||
              (prices[k]! === prices[low]! && open[k]!.localeCompare(open[low]!) < 0)));
        if (better) {
          low = k;
          lowScore = score;
        }
      }
      const add = Math.min(weights[low]!, totalUnits - sum);
      units[low] = units[low]! + add;
      sum += add;
    }
    for (let k = 0; k < n; k++) split.set(open[k]!, units[k]!);
  } else if (sum > totalUnits + 1e-9) {
    // The mirror image: lower the fullest pools to a common level, whole instances, then trim one at a time.
    const ids = [...split.keys()];
    const levels = ids.map((id) => -split.get(id)!).sort((a, b) => a - b);
    const level = -waterLevel(levels, sum - totalUnits);
    const weights = ids.map(weightOf);
    const units = ids.map((id) => split.get(id)!);
    for (let k = 0; k < ids.length; k++) {
      const u = units[k]!;
      if (u <= level) continue;
      const w = weights[k]!;
      const cut = Math.min(u, Math.floor((u - level) / w + 1e-9) * w);
      units[k] = u - cut;
      sum -= cut;
    }
    for (let guard = 0; sum > totalUnits + 1e-9 && guard < 4 * ids.length; guard++) {
      // The fullest pool, first by name on ties.
      let high = 0;
      for (let k = 1; k < ids.length; k++) {
        if (units[k]! > units[high]! || (units[k] === units[high] && ids[k]!.localeCompare(ids[high]!) < 0))
          high = k;
      }
      const cut = Math.min(weights[high]!, units[high]!, sum - totalUnits);
      if (cut <= 0) break;
      units[high] = units[high]! - cut;
      sum -= cut;
    }
    for (let k = 0; k < ids.length; k++) split.set(ids[k]!, units[k]!);
  }
  const out: Record<PoolId, number> = {};
  for (const [id, u] of [...split].sort(([a], [b]) => a.localeCompare(b))) if (u > 0) out[id] = u;
  return out;
}

/** The level L with Σ max(0, L / r − u) = amount over the pools (r ≥ 1: reluctance to fill). */
function costWaterLevel(pools: readonly { u: number; r: number }[], amount: number): number {
  const sorted = [...pools].sort((a, b) => a.u * a.r - b.u * b.r);
  let acc = 0;
  let slope = 0;
  for (let i = 0; i < sorted.length; i++) {
    const here = sorted[i]!.u * sorted[i]!.r;
    slope += 1 / sorted[i]!.r;
    const next = sorted[i + 1] !== undefined ? sorted[i + 1]!.u * sorted[i + 1]!.r : Number.POSITIVE_INFINITY;
    // Between two breakpoints, raising L by one adds Σ 1 / r over the pools already below it.
    const room = (next - here) * slope;
    if (acc + room >= amount) return here + (amount - acc) / slope;
    acc += room;
  }
  return 0;
}

/** The level L with Σ max(0, L − levels[i]) = amount, for levels sorted ascending. */
function waterLevel(levels: readonly number[], amount: number): number {
  let acc = 0;
  for (let i = 0; i < levels.length; i++) {
    const here = levels[i]!;
    const next = levels[i + 1] ?? Number.POSITIVE_INFINITY;
    // Raising the i + 1 lowest from `here` towards `next` costs (i + 1) per unit of level.
    const room = (next - here) * (i + 1);
    if (acc + room >= amount) return here + (amount - acc) / (i + 1);
    acc += room;
  }
  return levels[levels.length - 1] ?? 0;
}

/** The units of the largest pool in a split. */
export function largestPoolUnits(split: Readonly<Record<PoolId, number>>): number {
  let max = 0;
  for (const u of Object.values(split)) max = Math.max(max, u);
  return max;
}
