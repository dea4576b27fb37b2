import type { PlanDecision, PlannerMemory } from '../plan/plan-types.js';
import type { AutoscalerPolicy } from '../policy/policy-schema.js';
import { poolIdOf } from '../ports/fleet-provider.js';

/**
 * The decision's per-pool split with `pool`'s added units (beyond the `held` units its instances already have, which
 * must not be cut) moved to the other open pools, emptiest first.
 */
export function withoutPool(
  decision: PlanDecision,
  pool: string,
  held: number,
  policy: AutoscalerPolicy,
  unavailable: Readonly<Record<string, number>>,
  now: number,
): Record<string, number> | undefined {
  if (decision.perPool === undefined) return undefined;
  const split = { ...decision.perPool };
  let moving = Math.max(0, (split[pool] ?? 0) - held);
  split[pool] = Math.min(split[pool] ?? 0, held);
  if (split[pool] === 0) delete split[pool];
  const open = policy.pools.map(poolIdOf).filter((p) => p !== pool && (unavailable[p] ?? 0) <= now);
  if (open.length === 0) return split;
  const weight = (p: string) => policy.instanceTypes.find((t) => p.startsWith(`${t.name}@`))?.weight ?? 1;
  while (moving > 1e-9) {
    const next = [...open].sort((a, b) => (split[a] ?? 0) - (split[b] ?? 0) || a.localeCompare(b))[0]!;
    const add = Math.min(weight(next), moving);
    split[next] = (split[next] ?? 0) + add;
    moving -= add;
  }
  return split;
}

/** Planner memory with the action-related fields (scale times, kept floor) taken from `before` (dry-run). */
export function withoutActionMemory(next: PlannerMemory, before: PlannerMemory): PlannerMemory {
  const out: PlannerMemory = { ...next };
  for (const key of ['lastScaleOutMs', 'lastScaleInMs', 'lastKeptUnits'] as const) {
    if (before[key] === undefined) delete out[key];
    else out[key] = before[key];
  }
  return out;
}
