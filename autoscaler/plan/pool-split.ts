import type { AutoscalerPolicy, InstanceTypeSpec } from '../policy/policy-schema.js';
import { type FleetInstance, type PoolId, poolIdOf } from '../ports/fleet-provider.js';

/** Pools usable now: the policy's pools minus those backing off after insufficient capacity or interruptions. */
export function availablePools(
  policy: AutoscalerPolicy,
  unavailableUntilMs: Readonly<Record<PoolId, number>>,
  now: number,
): readonly PoolId[] {
  // The same array for the same policy while no pool backs off (per-pool constants are memoized on it).
  let all = policyPools.get(policy.pools);
  if (all === undefined) {
    all = policy.pools.map(poolIdOf);
    policyPools.set(policy.pools, all);
  }
  let backingOff = false;
  for (const _ in unavailableUntilMs) {
    backingOff = true;
    break;
  }
  if (!backingOff) return all;
  const open = all.filter((p) => (unavailableUntilMs[p] ?? 0) <= now);
  // With every pool backing off, any pool is better than none.
  return open.length > 0 ? open : all;
}

const policyPools = new WeakMap<AutoscalerPolicy['pools'], PoolId[]>();
const mixes = new WeakMap<readonly PoolId[], Map<string, number>>();

/** Fraction of planned units per instance type when units go evenly over `pools` (do not mutate the result). */
export function typeMix(pools: readonly PoolId[]): ReadonlyMap<string, number> {
  const known = mixes.get(pools);
  if (known !== undefined) return known;
  const mix = computeTypeMix(pools);
  mixes.set(pools, mix);
  return mix;
}

function computeTypeMix(pools: readonly PoolId[]): Map<string, number> {
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

/** Compares pool ids as `String.prototype.localeCompare` does (same default collation, without its per-call setup). */
const byName = new Intl.Collator().compare;

interface PoolConstants {
  types: ReadonlyMap<string, InstanceTypeSpec>;
  /** Spot price hint per unit (0 when unknown). */
  prices: number[];
  weights: number[];
  /** (price per unit / the cheapest)², 1 without prices. */
  rel: number[];
  /** Position of each pool when the open pools are sorted by name (ties keep their order). */
  nameRank: Int32Array;
}

const openConstants = new WeakMap<readonly PoolId[], PoolConstants>();
const typeWeights = new WeakMap<ReadonlyMap<string, InstanceTypeSpec>, Map<PoolId, number>>();

function specOf(types: ReadonlyMap<string, InstanceTypeSpec>, id: PoolId): InstanceTypeSpec | undefined {
  return types.get(id.slice(0, id.lastIndexOf('@')));
}

/** The weight of a pool's type (1 when unknown), memoized per types map. */
function weightOf(types: ReadonlyMap<string, InstanceTypeSpec>, id: PoolId): number {
  let m = typeWeights.get(types);
  if (m === undefined) {
    m = new Map();
    typeWeights.set(types, m);
  }
  let w = m.get(id);
  if (w === undefined) {
    w = specOf(types, id)?.weight ?? 1;
    m.set(id, w);
  }
  return w;
}

/** Per-pool constants of the open pools, memoized on the array (the planner passes the same one while nothing changes). */
function constantsOf(open: readonly PoolId[], types: ReadonlyMap<string, InstanceTypeSpec>): PoolConstants {
  const known = openConstants.get(open);
  if (known !== undefined && known.types === types) return known;
  const prices = open.map((id) => {
    const spec = specOf(types, id);
    return spec?.spotPriceHintPerHour !== undefined ? spec.spotPriceHintPerHour / spec.weight : 0;
  });
  const weights = open.map((id) => weightOf(types, id));
  let cheapest = Number.POSITIVE_INFINITY;
  for (const x of prices) if (x > 0 && x < cheapest) cheapest = x;
  if (cheapest === Number.POSITIVE_INFINITY) cheapest = 0;
  const rel = prices.map((x) => (cheapest > 0 && x > 0 ? (x / cheapest) ** 2 : 1));
  const c: PoolConstants = { types, prices, weights, rel, nameRank: ranks(open) };
  openConstants.set(open, c);
  return c;
}

/** Each id's position when `ids` are sorted by name (a stable sort: equal names keep their order). */
function ranks(ids: readonly PoolId[]): Int32Array {
  const order = ids.map((_, k) => k).sort((x, y) => byName(ids[x]!, ids[y]!));
  const rank = new Int32Array(ids.length);
  for (let k = 0; k < order.length; k++) rank[order[k]!] = k;
  return rank;
}

/** The last id list and its name ranks (splits of one fleet see the same pools, in the same order, every tick). */
let lastIds: PoolId[] = [];
let lastRanks: Int32Array = new Int32Array(0);

function nameRanks(ids: PoolId[]): Int32Array {
  if (ids.length === lastIds.length) {
    let same = true;
    for (let k = 0; k < ids.length && same; k++) same = ids[k] === lastIds[k];
    if (same) return lastRanks;
  }
  lastIds = ids;
  lastRanks = ranks(ids);
  return lastRanks;
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
  // A planner ticking on a steady fleet asks the same splits again and again: the last few are remembered.
  for (let m = 0; m < splitMemo.length; m++) {
    const hit = splitMemo[m]!;
    if (hit.total !== totalUnits || hit.open !== open || hit.types !== types || !sameEntries(hit, current))
      continue;
    if (m > 0) {
      splitMemo.splice(m, 1);
      splitMemo.unshift(hit);
    }
    return { ...hit.result };
  }
  const result = computeSplit(totalUnits, current, open, types);
  splitMemo.unshift({
    total: totalUnits,
    open,
    types,
    keys: [...current.keys()],
    values: [...current.values()],
    result,
  });
  if (splitMemo.length > 4) splitMemo.pop();
  return { ...result };
}

interface SplitMemo {
  total: number;
  open: readonly PoolId[];
  types: ReadonlyMap<string, InstanceTypeSpec>;
  keys: PoolId[];
  values: number[];
  result: Record<PoolId, number>;
}

const splitMemo: SplitMemo[] = [];

function sameEntries(m: SplitMemo, current: ReadonlyMap<PoolId, number>): boolean {
  if (m.keys.length !== current.size) return false;
  let k = 0;
  for (const [id, u] of current) {
    if (m.keys[k] !== id || m.values[k] !== u) return false;
    k++;
  }
  return true;
}

function computeSplit(
  totalUnits: number,
  current: ReadonlyMap<PoolId, number>,
  open: readonly PoolId[],
  types: ReadonlyMap<string, InstanceTypeSpec>,
): Record<PoolId, number> {
  const split = new Map<PoolId, number>();
  for (const [id, u] of current) split.set(id, u);
  for (const id of open) if (!split.has(id)) split.set(id, 0);
  let sum = 0;
  for (const u of split.values()) sum += u;
  if (sum < totalUnits - 1e-9 && open.length > 0) {
    // Water-filling in cost space: pool p is filled to L / r_p, where r_p = (its price per unit / the cheapest)²,
    // so cheaper pools get more while every open pool still gets some (the pool-loss headroom bounds the rest).
    // L solves Σ max(0, L / r_p − u_p) = what is missing; whole instances (floor), then one instance at a time
    // to the pool with the lowest (u + w) × r_p.
    const n = open.length;
    const { prices, weights, rel, nameRank } = constantsOf(open, types);
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
            (prices[k]! < prices[low]! || (prices[k]! === prices[low]! && nameRank[k]! < nameRank[low]!)));
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
    const nameRank = nameRanks(ids);
    const levels = ids.map((id) => -split.get(id)!).sort((a, b) => a - b);
    const level = -waterLevel(levels, sum - totalUnits);
    const weights = ids.map((id) => weightOf(types, id));
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
        if (units[k]! > units[high]! || (units[k] === units[high] && nameRank[k]! < nameRank[high]!))
          high = k;
      }
      const cut = Math.min(weights[high]!, units[high]!, sum - totalUnits);
      if (cut <= 0) break;
      units[high] = units[high]! - cut;
      sum -= cut;
    }
    for (let k = 0; k < ids.length; k++) split.set(ids[k]!, units[k]!);
  }
  // By pool name, only pools with units.
  const ids = [...split.keys()];
  const rank = nameRanks(ids);
  const byRank = new Array<PoolId>(ids.length);
  for (let k = 0; k < ids.length; k++) byRank[rank[k]!] = ids[k]!;
  const out: Record<PoolId, number> = {};
  for (const id of byRank) {
    const u = split.get(id)!;
    if (u > 0) out[id] = u;
  }
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
