import type { FleetInstance, InstanceId, PoolId } from '../ports/fleet-provider.js';
import { instancePoolId } from './pool-split.js';

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
  // Sort keys computed once per candidate (fleets of thousands are planned every tick in the simulator).
  const keyed = candidates.map((i) => ({
    i,
    notReady: i.state === 'ready' ? 1 : 0,
    overfill: (poolUnits.get(instancePoolId(i)) ?? 0) - fairShare,
    state: stateBytesOf(i.instanceId),
  }));
  keyed.sort(
    (a, b) =>
      a.notReady - b.notReady ||
      Math.sign(b.overfill - a.overfill) ||
      a.state - b.state ||
      b.i.launchTimeMs - a.i.launchTimeMs ||
      (a.i.instanceId < b.i.instanceId ? -1 : a.i.instanceId > b.i.instanceId ? 1 : 0),
  );
  const sorted = keyed.map((k) => k.i);
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
