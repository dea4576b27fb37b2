import { describe, expect, it } from 'vitest';
import { fleetViewOf } from '../../../../autoscaler/plan/fleet-view.js';
import { plan } from '../../../../autoscaler/plan/plan.js';
import { capacityModelFromThroughput, emptyPlannerMemory } from '../../../../autoscaler/plan/plan-types.js';
import { parseAutoscalerPolicy } from '../../../../autoscaler/policy/policy-schema.js';
import type { FleetSnapshot } from '../../../../autoscaler/ports/fleet-provider.js';
import type { InterruptionNotice } from '../../../../autoscaler/ports/interruption-source.js';
import { fleetInstanceOf, PlanFleetIndex } from '../../../../autoscaler/simulator/plan-fleet-index.js';
import { createRandom } from '../../../../autoscaler/simulator/seeded-random.js';
import { simFleetSchema, simMarketSchema } from '../../../../autoscaler/simulator/sim-config-schema.js';
import { SimFleet } from '../../../../autoscaler/simulator/sim-fleet.js';
import { createSpotMarket } from '../../../../autoscaler/simulator/spot-market.js';

const types = [
  {
    name: 'a.2xlarge',
    vcpu: 8,
    memoryGiB: 16,
    recordsPerSecPerVcpu: 1000,
    onDemandPricePerHour: 0.4,
    spotBasePricePerHour: 0.1,
  },
  {
    name: 'b.xlarge',
    vcpu: 4,
    memoryGiB: 16,
    recordsPerSecPerVcpu: 900,
    onDemandPricePerHour: 0.2,
    spotBasePricePerHour: 0.06,
  },
];

function simFleet(seed: number): SimFleet {
  const cfg = simFleetSchema.parse({ instanceTypes: types, availabilityZones: ['x', 'y'], launchPools: 3 });
  const market = createSpotMarket(
    cfg.instanceTypes,
    cfg.availabilityZones,
    simMarketSchema.parse({}),
    0,
    86_400_000,
    seed,
  );
  return new SimFleet(cfg, market, createRandom(seed, 'fleet'));
}

/** The view, notices and workers rebuilt from scratch from the fleet's instances, as plan would see them. */
function fromScratch(f: SimFleet) {
  const live = [...f.instances()];
  const snapshot: FleetSnapshot = { observedAtMs: 0, targetUnits: 0, instances: live.map(fleetInstanceOf) };
  const notices: InterruptionNotice[] = live
    .filter((i) => i.noticeMs !== undefined)
    .map((i) => ({
      instanceId: i.id,
      kind: 'interruption',
      deadlineMs: i.endMs ?? (i.noticeMs as number) + 120_000,
      issuedAtMs: i.noticeMs as number,
      instanceType: i.type,
      availabilityZone: i.az,
    }));
  return {
    snapshot,
    notices,
    view: fleetViewOf(snapshot, notices),
    workers: live.filter((i) => i.state === 'ready').map((i) => i.id),
    leavingUnits: live
      .filter((i) => i.noticeMs !== undefined || i.state === 'draining')
      .reduce((a, i) => a + i.units, 0),
  };
}

const policy = parseAutoscalerPolicy({
  instanceTypes: types.map((t) => ({
    name: t.name,
    vcpu: t.vcpu,
    memoryGiB: t.memoryGiB,
    spotPriceHintPerHour: t.spotBasePricePerHour,
  })),
  availabilityZones: ['x', 'y'],
  minUnits: 4,
  scaleDownCooldownMs: 0,
  scaleInSustainMs: 0,
  noScaleInAfterInterruptionMs: 0,
  scaleInMinSavingRatio: 1,
});
const model = capacityModelFromThroughput({ 'a.2xlarge': 1000, 'b.xlarge': 900 });

/** plan decides the same with the index as its fleet view as with the view it computes itself. */
function expectSamePlan(index: PlanFleetIndex, f: SimFleet, now: number, load: number): void {
  index.refreshWorkers(Math.min(load, f.readyRate), f.readyRate, 60, 2 ** 30, 512);
  const base = {
    now,
    fleet: { observedAtMs: now, targetUnits: f.activeUnits + index.leavingUnits, instances: index.instances },
    metrics: {
      observedAtMs: now,
      windowMs: 60_000,
      workers: index.workers,
      streams: [{ stream: 'input', recordsPerSecond: load, lagByPartition: { '0': 0 } }],
    },
    forecast: undefined,
    model,
    policy,
    memory: emptyPlannerMemory(),
    interruptions: index.notices,
  };
  expect(plan({ ...base, fleetView: index })).toEqual(plan(base));
}

function expectSame(index: PlanFleetIndex, f: SimFleet): void {
  const want = fromScratch(f);
  expect(index.instances).toEqual(want.snapshot.instances);
  expect(index.staying).toEqual(want.view.staying);
  expect(index.leaving).toEqual(want.view.leaving);
  expect([...index.stayingPoolUnits].sort()).toEqual([...want.view.stayingPoolUnits].sort());
  expect(index.stayingReadyUnits).toBe(want.view.stayingReadyUnits);
  expect(index.leavingUnits).toBe(want.leavingUnits);
  expect(index.notices).toEqual(want.notices);
  expect(index.workers.map((w) => w.instanceId)).toEqual(want.workers);
  for (const i of want.snapshot.instances) expect(index.isLive(i.instanceId)).toBe(true);
  expect(index.isLive('i-ffffffff')).toBe(false);
}

describe('PlanFleetIndex', () => {
  it.each([1, 2, 3])(
    'equals the from-scratch view after random launches, drains, interruptions and terminations (seed %i)',
    (seed) => {
      const f = simFleet(seed);
      const rng = createRandom(seed, 'ops');
      const log = f.trackChanges();
      const index = new PlanFleetIndex('input');
      let now = 0;
      let checks = 0;
      for (let op = 0; op < 600; op++) {
        const r = rng.next();
        if (r < 0.3) {
          f.launch(4 + Math.floor(rng.next() * 40), now);
        } else if (r < 0.4) {
          f.launchPerPool(
            { 'a.2xlarge@x': 8 * Math.floor(rng.next() * 12), 'b.xlarge@y': 4 * Math.floor(rng.next() * 12) },
            now,
          );
        } else if (r < 0.6) {
          const staying = [...f.instances()].filter(
            (i) => i.noticeMs === undefined && (i.state === 'ready' || i.state === 'booting'),
          );
          const victim = staying[Math.floor(rng.next() * staying.length)];
          if (victim) f.drain(victim.id, now);
        } else if (r < 0.7) {
          f.interrupt(Math.floor(rng.next() * 4), rng.next(), now);
        } else {
          now += Math.floor(rng.next() * 120_000);
          f.advance(now);
        }
        // Apply the log at random points, so changes pile up (and repeat) between ticks as they do between steps.
        if (rng.next() < 0.3) {
          for (const inst of log.take()) index.apply(inst);
          expectSame(index, f);
          expectSamePlan(index, f, now, rng.next() * f.readyRate * 1.5);
          checks++;
        }
      }
      for (const inst of log.take()) index.apply(inst);
      expectSame(index, f);
      expect(checks).toBeGreaterThan(100);
      expect(f.interrupted).toBeGreaterThan(0);
      expect(f.drained).toBeGreaterThan(0);
    },
  );

  it('shares the fleet processed records among consuming workers in proportion to their rate', () => {
    const f = simFleet(1);
    const log = f.trackChanges();
    f.launchPerPool({ 'a.2xlarge@x': 8, 'b.xlarge@x': 4 }, 0);
    f.advance(3_600_000);
    const index = new PlanFleetIndex('input');
    for (const inst of log.take()) index.apply(inst);
    index.refreshWorkers(11_600, f.readyRate, 60, 1000, 10);
    const byType = Object.fromEntries(index.workers.map((w) => [w.instanceType, w]));
    // 8,000 + 3,600 records/s of capacity: the big one gets 8,000 / 11,600 of the records.
    expect(byType['a.2xlarge']?.streams[0]?.records).toBeCloseTo(8000 * 60);
    expect(byType['b.xlarge']?.busyCpuSeconds).toBeCloseTo(4 * 60);
    expect(byType['a.2xlarge']?.stateBytes).toBeCloseTo((1000 * 8000) / 11_600);
  });
});
