import type { FleetInstance, InstanceId, PoolId } from '../ports/fleet-provider.js';
import { instancePoolId } from './pool-split.js';

/**
 * Chooses instances to drain so that their units sum to at most `removableUnits`, cheapest to lose first:
 * workers not ready yet (no state to move), then those in the most over-filled pools (keeps pools balanced, so
 * the largest pool stays small), then least state to move, then newest (the least warmed-up caches).
 * Candidates are taken in that order and each one that still fits is chosen. The first two keys belong to a pool,
 * so candidates are grouped by them and only the groups reached are ordered (from a heap): choosing a few victims
 * in a fleet of thousands costs a pass over the fleet, not a sort of it.
 */
export function chooseVictims(
  candidates: readonly FleetInstance[],
  removableUnits: number,
  stateBytesOf: (id: InstanceId) => number,
  poolUnits: ReadonlyMap<PoolId, number>,
): FleetInstance[] {
  let pooled = 0;
  for (const u of poolUnits.values()) pooled += u;
  const fairShare = pooled / Math.max(1, poolUnits.size);
  // Groups of equal (not ready, over-fill), found per pool once.
  const groups: { notReady: number; overfill: number; members: number[] }[] = [];
  const groupOf = new Map<PoolId, number[]>();
  let minWeight = Number.POSITIVE_INFINITY;
  for (let k = 0; k < candidates.length; k++) {
    const i = candidates[k]!;
    const pool = instancePoolId(i);
    let pair = groupOf.get(pool);
    if (pair === undefined) {
      const overfill = (poolUnits.get(pool) ?? 0) - fairShare;
      pair = [findGroup(groups, 0, overfill), findGroup(groups, 1, overfill)];
      groupOf.set(pool, pair);
    }
    groups[pair[i.state === 'ready' ? 1 : 0]!]!.members.push(k);
    if (i.weightUnits < minWeight) minWeight = i.weightUnits;
  }
  groups.sort((a, b) => a.notReady - b.notReady || Math.sign(b.overfill - a.overfill));
  const chosen: FleetInstance[] = [];
  let units = 0;
  for (const g of groups) {
    // Once not even the lightest candidate fits, none further can.
    if (units + minWeight > removableUnits + 1e-9) break;
    const members = g.members;
    const state = new Float64Array(members.length);
    for (let m = 0; m < members.length; m++) state[m] = stateBytesOf(candidates[members[m]!]!.instanceId);
    // m before n: least state, newest, id, then candidate order.
    const before = (m: number, n: number): boolean => {
      const a = candidates[members[m]!]!;
      const b = candidates[members[n]!]!;
      const c =
        state[m]! - state[n]! ||
        b.launchTimeMs - a.launchTimeMs ||
        (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0);
      return c < 0 || (!(c > 0) && members[m]! < members[n]!);
    };
    const heap = new Int32Array(members.length);
    for (let m = 0; m < members.length; m++) heap[m] = m;
    let size = members.length;
    const siftDown = (from: number): void => {
      let k = from;
      const item = heap[k]!;
      for (;;) {
        const l = 2 * k + 1;
        if (l >= size) break;
        const r = l + 1;
        const child = r < size && before(heap[r]!, heap[l]!) ? r : l;
        if (!before(heap[child]!, item)) break;
        heap[k] = heap[child]!;
        k = child;
      }
      heap[k] = item;
    };
    for (let k = (size >> 1) - 1; k >= 0; k--) siftDown(k);
    while (size > 0 && units + minWeight <= removableUnits + 1e-9) {
      const top = heap[0]!;
      size--;
      if (size > 0) {
        heap[0] = heap[size]!;
        siftDown(0);
      }
      const i = candidates[members[top]!]!;
      if (units + i.weightUnits <= removableUnits + 1e-9) {
        chosen.push(i);
        units += i.weightUnits;
      }
    }
  }
  return chosen;
}

/** The index of the group with these keys (equal over-fill compares equal), added when new. */
function findGroup(
  groups: { notReady: number; overfill: number; members: number[] }[],
  notReady: number,
  overfill: number,
): number {
  for (let g = 0; g < groups.length; g++) {
    const x = groups[g]!;
    if (x.notReady === notReady && Math.sign(x.overfill - overfill) === 0) return g;
  }
  groups.push({ notReady, overfill, members: [] });
  return groups.length - 1;
}
