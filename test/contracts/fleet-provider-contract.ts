import { describe, expect, it } from 'vitest';
import { isNotFound } from '../../autoscaler/ports/errors.js';
import {
  DRAIN_REASON_TAG,
  DRAINING_TAG,
  type FleetInstance,
  type FleetProvider,
  type FleetSnapshot,
  poolIdOf,
} from '../../autoscaler/ports/fleet-provider.js';

/** A fresh fleet for one test; the harness registers its own cleanup (onTestFinished). */
export interface FleetProviderHarness {
  provider: FleetProvider;
  /** Target capacity (weighted units) the fleet was created with. */
  initialUnits: number;
  /** Instance types the fleet may launch. */
  instanceTypes: readonly string[];
}

/** Instances that count as capacity (not leaving). */
function live(snapshot: FleetSnapshot): FleetInstance[] {
  return snapshot.instances.filter((i) => i.state !== 'shutting-down' && i.state !== 'terminated');
}

function liveUnits(snapshot: FleetSnapshot): number {
  return live(snapshot).reduce((sum, i) => sum + i.weightUnits, 0);
}

/** Polls `describe` until `ok` holds (real fleets converge asynchronously) and returns that snapshot. */
async function eventually(
  provider: FleetProvider,
  ok: (s: FleetSnapshot) => boolean,
  timeoutMs = 20_000,
): Promise<FleetSnapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const snapshot = await provider.describe();
    if (ok(snapshot) || Date.now() > deadline) return snapshot;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The behaviour every FleetProvider must have, whatever is behind it (Auto Scaling group, Spot Fleet, EC2 Fleet, local
 * processes, fake). Run it once per adapter with a harness that builds a fresh fleet per test.
 */
export function fleetProviderContract(name: string, setup: () => Promise<FleetProviderHarness>): void {
  describe(`FleetProvider contract: ${name}`, () => {
    it('describes its instances with type, AZ, market, state, launch time and weight, and its target', async () => {
      const { provider, initialUnits, instanceTypes } = await setup();
      const snapshot = await eventually(provider, (s) => liveUnits(s) >= initialUnits);
      expect(snapshot.targetUnits).toBe(initialUnits);
      expect(liveUnits(snapshot)).toBeGreaterThanOrEqual(initialUnits);
      for (const instance of snapshot.instances) {
        expect(instanceTypes).toContain(instance.instanceType);
        expect(instance.availabilityZone).toMatch(/\S/);
        expect(['spot', 'on-demand']).toContain(instance.market);
        expect(instance.launchTimeMs).toBeGreaterThan(0);
        expect(instance.weightUnits).toBeGreaterThan(0);
      }
      expect(new Set(snapshot.instances.map((i) => i.instanceId)).size).toBe(snapshot.instances.length);
    });

    it('scales out to the requested target (a total with its per-pool split, as the planner sends it)', async () => {
      const { provider, initialUnits } = await setup();
      const before = await eventually(provider, (s) => liveUnits(s) >= initialUnits);
      const total = before.targetUnits + 2;
      // Per-pool split summing to the total: the current units per pool, the extra 2 on the first pool.
      const perPool: Record<string, number> = {};
      for (const i of live(before)) perPool[poolIdOf(i)] = (perPool[poolIdOf(i)] ?? 0) + i.weightUnits;
      const firstPool = Object.keys(perPool)[0];
      if (firstPool === undefined) throw new Error('the fleet has no live instance');
      perPool[firstPool] =
        (perPool[firstPool] ?? 0) + total - Object.values(perPool).reduce((a, b) => a + b, 0);
      await provider.setTargetCapacity({ totalUnits: total, perPool });
      const snapshot = await eventually(provider, (s) => liveUnits(s) >= total);
      expect(snapshot.targetUnits).toBe(total);
      expect(liveUnits(snapshot)).toBeGreaterThanOrEqual(total);
    });

    it('terminates the chosen instance with the target decremented by its weight, and does not replace it', async () => {
      const { provider, initialUnits } = await setup();
      const before = await eventually(provider, (s) => liveUnits(s) >= initialUnits);
      const victim = live(before)[0];
      if (!victim) throw new Error('the fleet has no live instance to terminate');
      await provider.terminateInstance(victim.instanceId, { decrementCapacity: true });
      const after = await eventually(
        provider,
        (s) => !live(s).some((i) => i.instanceId === victim.instanceId) && liveUnits(s) <= s.targetUnits,
      );
      expect(after.targetUnits).toBe(before.targetUnits - victim.weightUnits);
      expect(live(after).map((i) => i.instanceId)).not.toContain(victim.instanceId);
      // The other instances are untouched: the provider did not pick victims of its own.
      for (const other of live(before)) {
        if (other.instanceId !== victim.instanceId)
          expect(live(after).map((i) => i.instanceId)).toContain(other.instanceId);
      }
      expect(liveUnits(after)).toBe(liveUnits(before) - victim.weightUnits);
    });

    it('rejects terminating an instance that is not in the fleet with InstanceNotFoundError', async () => {
      const { provider, initialUnits } = await setup();
      const error = await provider.terminateInstance('i-0123456789abcdef0', { decrementCapacity: true }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isNotFound(error)).toBe(true);
      const snapshot = await provider.describe();
      expect(snapshot.targetUnits).toBe(initialUnits);
    });

    it('tags and untags an instance (draining marker), ignoring missing keys', async () => {
      const { provider, initialUnits } = await setup();
      const snapshot = await eventually(provider, (s) => liveUnits(s) >= initialUnits);
      const instance = live(snapshot)[0];
      if (!instance) throw new Error('the fleet has no live instance to tag');
      await provider.tagInstance(instance.instanceId, {
        [DRAINING_TAG]: '1700000000000',
        [DRAIN_REASON_TAG]: 'scale-in',
      });
      const tagged = (await provider.describe()).instances.find((i) => i.instanceId === instance.instanceId);
      expect(tagged?.tags[DRAINING_TAG]).toBe('1700000000000');
      expect(tagged?.tags[DRAIN_REASON_TAG]).toBe('scale-in');
      await provider.untagInstance(instance.instanceId, [DRAINING_TAG, 'liveagg:never-set']);
      const untagged = (await provider.describe()).instances.find(
        (i) => i.instanceId === instance.instanceId,
      );
      expect(untagged?.tags[DRAINING_TAG]).toBeUndefined();
      expect(untagged?.tags[DRAIN_REASON_TAG]).toBe('scale-in');
    });
  });
}
