import { describe, expect, it } from 'vitest';
import { createRandom } from '../../../../autoscaler/simulator/seeded-random.js';
import { simFleetSchema, simMarketSchema } from '../../../../autoscaler/simulator/sim-config-schema.js';
import { SimFleet } from '../../../../autoscaler/simulator/sim-fleet.js';
import { createSpotMarket } from '../../../../autoscaler/simulator/spot-market.js';

const type = {
  name: 't.2xlarge',
  vcpu: 8,
  memoryGiB: 16,
  recordsPerSecPerVcpu: 1000,
  onDemandPricePerHour: 0.4,
  spotBasePricePerHour: 0.1,
  interruptionEventsPerPoolPerDay: 0,
};

function fleet() {
  const cfg = simFleetSchema.parse({ instanceTypes: [type], availabilityZones: ['a'] });
  const market = createSpotMarket(
    cfg.instanceTypes,
    cfg.availabilityZones,
    simMarketSchema.parse({}),
    0,
    86_400_000,
    1,
  );
  return { cfg, f: new SimFleet(cfg, market, createRandom(1, 'fleet')) };
}

describe('simulated fleet', () => {
  it('makes a launch consume only after boot + join + restore', () => {
    const { cfg, f } = fleet();
    f.launch(16, 0);
    expect(f.activeUnits).toBe(16);
    expect(f.readyRate).toBe(0);
    const lead = (cfg.bootSeconds + cfg.joinSeconds + cfg.restoreSeconds) * 1000;
    f.advance(lead - 1);
    expect(f.readyUnits).toBe(0);
    f.advance(lead);
    expect(f.readyUnits).toBe(16);
    expect(f.readyRate).toBe(16_000);
    expect(f.takeChanges().joinedRate).toBe(16_000);
  });

  it('drains a victim: capacity leaves at once, billing ends after the drain', () => {
    const { cfg, f } = fleet();
    f.launch(16, 0);
    f.advance(600_000);
    const [victim] = f.chooseVictims(8, 600_000);
    expect(f.drain(victim as string, 600_000)).toBe(true);
    expect(f.readyUnits).toBe(8);
    expect(f.drainingUnits).toBe(8);
    expect(f.billedPerPool[0]).toBe(2);
    f.advance(600_000 + cfg.drainSeconds * 1000);
    expect(f.billedPerPool[0]).toBe(1);
    expect(f.drained).toBe(1);
  });

  it('turns an interruption warning into lost capacity before the notice ends', () => {
    const { cfg, f } = fleet();
    f.launch(80, 0);
    f.advance(600_000);
    const hit = f.interrupt(0, 1, 600_000);
    expect(hit).toBe(10);
    expect(f.activeUnits).toBe(0);
    expect(f.readyUnits).toBe(80); // still consuming during the notice
    f.advance(600_000 + (cfg.noticeSeconds - cfg.drainSeconds) * 1000);
    expect(f.readyUnits).toBe(0);
    expect(f.billedPerPool[0]).toBe(10);
    f.advance(600_000 + cfg.noticeSeconds * 1000);
    expect(f.billedPerPool[0]).toBe(0);
    expect(f.interrupted).toBe(10);
  });

  it('steers launches per pool', () => {
    const { f } = fleet();
    expect(f.launchPerPool({ 't.2xlarge@a': 24 }, 0)).toBe(24);
    expect(f.launchPerPool({ 't.2xlarge@a': 24 }, 0)).toBe(0);
  });
});
