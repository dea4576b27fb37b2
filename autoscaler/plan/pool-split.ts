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

/** Units per pool held by live instances (and per-pool targets when the fleet reports them). */
export function currentPoolUnits(
  instances: readonly FleetInstance[],
  perPoolTarget: Readonly<Record<PoolId, number>> | undefined,
): Map<PoolId, number> {
  const units = new Map<PoolId, number>();
  for (const i of instances) {
    const id = poolIdOf(i);
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
  const price = (id: PoolId) => {
    const spec = types.get(id.slice(0, id.lastIndexOf('@')));
    return spec?.spotPriceHintPerHour !== undefined ? spec.spotPriceHintPerHour / spec.weight : 0;
  };
  const weightOf = (id: PoolId) => types.get(id.slice(0, id.lastIndexOf('@')))?.weight ?? 1;
  let sum = 0;
  for (const u of split.values()) sum += u;
  let guard = 100_000;
  while (sum < totalUnits - 1e-9 && open.length > 0 && guard-- > 0) {
    const next = [...open].sort(
      (a, b) => split.get(a)! - split.get(b)! || price(a) - price(b) || a.localeCompare(b),
    )[0]!;
    const add = Math.min(weightOf(next), totalUnits - sum);
    split.set(next, split.get(next)! + add);
    sum += add;
  }
  while (sum > totalUnits + 1e-9 && guard-- > 0) {
    const next = [...split.keys()].sort((a, b) => split.get(b)! - split.get(a)! || a.localeCompare(b))[0]!;
    const cut = Math.min(weightOf(next), split.get(next)!, sum - totalUnits);
    if (cut <= 0) break;
    split.set(next, split.get(next)! - cut);
    sum -= cut;
  }
  const out: Record<PoolId, number> = {};
  for (const [id, u] of [...split].sort(([a], [b]) => a.localeCompare(b))) if (u > 0) out[id] = u;
  return out;
}

/** The units of the largest pool in a split. */
export function largestPoolUnits(split: Readonly<Record<PoolId, number>>): number {
  let max = 0;
  for (const u of Object.values(split)) max = Math.max(max, u);
  return max;
}
