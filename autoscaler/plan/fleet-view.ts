import {
  DRAINING_TAG,
  type FleetInstance,
  type FleetSnapshot,
  type InstanceId,
  type PoolId,
} from '../ports/fleet-provider.js';
import type { InterruptionNotice } from '../ports/interruption-source.js';
import type { PlanFleetView } from './plan-types.js';
import { instancePoolId } from './pool-split.js';

/** Gone instances are not part of the fleet the planner plans for. */
export const isGone = (i: FleetInstance): boolean => i.state === 'shutting-down' || i.state === 'terminated';

/**
 * The planner's split of a fleet snapshot, from scratch (one pass): staying and leaving instances in snapshot order,
 * staying units per pool and ready staying units. An instance leaves when it carries the draining tag or one of
 * `interruptions` names it.
 */
export function fleetViewOf(
  fleet: FleetSnapshot,
  interruptions: readonly InterruptionNotice[] | undefined,
): PlanFleetView {
  const noticed = new Set<InstanceId>();
  for (const n of interruptions ?? []) noticed.add(n.instanceId);
  const staying: FleetInstance[] = [];
  const leaving: FleetInstance[] = [];
  const pools = new Map<PoolId, number>();
  let ready = 0;
  for (const i of fleet.instances) {
    if (isGone(i)) continue;
    if (i.tags[DRAINING_TAG] !== undefined || (noticed.size > 0 && noticed.has(i.instanceId))) {
      leaving.push(i);
      continue;
    }
    staying.push(i);
    const id = instancePoolId(i);
    pools.set(id, (pools.get(id) ?? 0) + i.weightUnits);
    if (i.state === 'ready') ready += i.weightUnits;
  }
  let live: Set<InstanceId> | undefined;
  return {
    staying,
    leaving,
    stayingPoolUnits: pools,
    stayingReadyUnits: ready,
    isLive: (id) => {
      // Built on first use: plans without notices or lost instances never ask.
      live ??= new Set(fleet.instances.filter((i) => !isGone(i)).map((i) => i.instanceId));
      return live.has(id);
    },
  };
}
