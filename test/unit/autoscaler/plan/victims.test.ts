import { describe, expect, it } from 'vitest';
import { chooseVictims } from '../../../../autoscaler/plan/victims.js';
import { type FleetInstance, poolIdOf } from '../../../../autoscaler/ports/fleet-provider.js';
import { createRandom } from '../../../../autoscaler/simulator/seeded-random.js';

/** The order chooseVictims documents, as a full sort, then the same greedy fill: the reference it must match. */
function bySort(
  candidates: readonly FleetInstance[],
  removable: number,
  stateOf: (id: string) => number,
  poolUnits: ReadonlyMap<string, number>,
): string[] {
  const fair = [...poolUnits.values()].reduce((a, b) => a + b, 0) / Math.max(1, poolUnits.size);
  const sorted = [...candidates].sort(
    (a, b) =>
      (a.state === 'ready' ? 1 : 0) - (b.state === 'ready' ? 1 : 0) ||
      Math.sign((poolUnits.get(poolIdOf(b)) ?? 0) - fair - ((poolUnits.get(poolIdOf(a)) ?? 0) - fair)) ||
      stateOf(a.instanceId) - stateOf(b.instanceId) ||
      b.launchTimeMs - a.launchTimeMs ||
      (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0),
  );
  const out: string[] = [];
  let units = 0;
  for (const i of sorted) {
    if (units + i.weightUnits <= removable + 1e-9) {
      out.push(i.instanceId);
      units += i.weightUnits;
    }
  }
  return out;
}

describe('chooseVictims', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'matches a full sort and greedy fill on a random fleet (seed %i)',
    (seed) => {
      // Odd seeds: pools filled round-robin with one weight, so several pools tie on over-fill.
      const balanced = seed % 2 === 1;
      const rng = createRandom(seed, 'victims');
      const pools = ['m@a', 'm@b', 'c@a', 'c@b'];
      const n = 20 + Math.floor(rng.next() * 300);
      const fleet: FleetInstance[] = [];
      const state = new Map<string, number>();
      for (let k = 0; k < n; k++) {
        const pool = pools[balanced ? k % pools.length : Math.floor(rng.next() * pools.length)] as string;
        const [type, az] = pool.split('@') as [string, string];
        const id = `i-${Math.floor(rng.next() * 1e9).toString(16)}${k}`;
        fleet.push({
          instanceId: id,
          instanceType: type,
          availabilityZone: az,
          market: 'spot',
          state: rng.next() < 0.15 ? 'pending' : 'ready',
          // Few distinct launch times and states, so the later keys decide often.
          launchTimeMs: Math.floor(rng.next() * 5) * 60_000,
          weightUnits: balanced || rng.next() < 0.5 ? 4 : 8,
          tags: {},
        });
        state.set(id, Math.floor(rng.next() * 4) * 1e6);
      }
      const poolUnits = new Map<string, number>();
      for (const i of fleet) poolUnits.set(poolIdOf(i), (poolUnits.get(poolIdOf(i)) ?? 0) + i.weightUnits);
      const stateOf = (id: string) => state.get(id) ?? 0;
      for (const removable of [0, 3, 4, 12, 50, 200, 10_000]) {
        const got = chooseVictims(fleet, removable, stateOf, poolUnits).map((i) => i.instanceId);
        expect(got).toEqual(bySort(fleet, removable, stateOf, poolUnits));
      }
    },
  );

  it('takes not-ready workers first, then the most over-filled pool, then least state', () => {
    const inst = (id: string, pool: string, state: 'pending' | 'ready'): FleetInstance => ({
      instanceId: id,
      instanceType: pool.split('@')[0] as string,
      availabilityZone: pool.split('@')[1] as string,
      market: 'spot',
      state,
      launchTimeMs: 0,
      weightUnits: 4,
      tags: {},
    });
    const fleet = [
      inst('r-small', 'm@a', 'ready'),
      inst('r-full', 'm@b', 'ready'),
      inst('p', 'm@a', 'pending'),
    ];
    const pools = new Map([
      ['m@a', 8],
      ['m@b', 40],
    ]);
    const got = chooseVictims(fleet, 8, () => 0, pools).map((i) => i.instanceId);
    expect(got).toEqual(['p', 'r-full']);
  });
});
