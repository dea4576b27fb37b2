import { type FleetInstance, type InstanceId, type PoolId, poolIdOf } from '../ports/fleet-provider.js';

/**
 * Chooses instances to drain so that their units sum to at most `removableUnits`, cheapest to lose first:
 * workers not ready yet (no state to move), then those in the most over-filled pools (keeps pools balanced, so
 * the largest pool stays small), then least state to move, then newest (the least warmed-up caches).
 */
export function chooseVictims(
  candidates: readonly FleetInstance[],
  removableUnits: number,
  stateBytesOf: (id: InstanceId) => number,
  poolUnits: ReadonlyMap<PoolId, number>,
): FleetInstance[] {
  const fairShare = [...poolUnits.values()].reduce((a, b) => a + b, 0) / Math.max(1, poolUnits.size);
  const overfill = (i: FleetInstance) => (poolUnits.get(poolIdOf(i)) ?? 0) - fairShare;
  const sorted = [...candidates].sort(
    (a, b) =>
      Number(a.state === 'ready') - Number(b.state === 'ready') ||
      Math.sign(overfill(b) - overfill(a)) ||
      stateBytesOf(a.instanceId) - stateBytesOf(b.instanceId) ||
      b.launchTimeMs - a.launchTimeMs ||
      a.instanceId.localeCompare(b.instanceId),
  );
  const chosen: FleetInstance[] = [];
  let units = 0;
  for (const i of sorted) {
    if (units + i.weightUnits <= removableUnits + 1e-9) {
      chosen.push(i);
      units += i.weightUnits;
    }
  }
  return chosen;
}
