import { describe, expect, it } from 'vitest';
import { emptyPlannerMemory, type PlanDecision } from '../../../../autoscaler/plan/plan-types.js';
import { parseAutoscalerPolicy } from '../../../../autoscaler/policy/policy-schema.js';
import type { FleetSnapshot } from '../../../../autoscaler/ports/fleet-provider.js';
import { DashboardState } from '../../../../infra/dashboard/dashboard-state.js';
import { renderFragment } from '../../../../infra/dashboard/dashboard-view.js';

const policy = parseAutoscalerPolicy({
  instanceTypes: [{ name: 'local.small', vcpu: 1, memoryGiB: 1, spotPriceHintPerHour: 3.6 }],
  availabilityZones: ['a'],
  minUnits: 1,
});

function fleet(n: number): FleetSnapshot {
  return {
    observedAtMs: 0,
    targetUnits: n,
    instances: Array.from({ length: n }, (_, i) => ({
      instanceId: `w-${i}`,
      instanceType: 'local.small',
      availabilityZone: 'a',
      market: 'spot' as const,
      state: 'ready' as const,
      launchTimeMs: 0,
      weightUnits: 1,
      tags: {},
    })),
  };
}

function decision(
  atMs: number,
  action: PlanDecision['action'],
  desired: number,
  previous: number,
): PlanDecision {
  return {
    atMs,
    desiredUnits: desired,
    previousUnits: previous,
    action,
    drain: [],
    reasons: [{ code: 'need', message: `need ${desired} units`, values: {} }],
    inputs: {
      targetUnits: previous,
      readyUnits: previous,
      leavingUnits: 0,
      liveRecordsPerSecond: 100,
      projectedUtilization: 0.9,
      leadTimeMs: 0,
    },
    memory: emptyPlannerMemory(),
  };
}

describe('DashboardState', () => {
  it('folds decisions into series, counts scale events and accrues cost per instance-hour', () => {
    const s = new DashboardState(policy, () => 120);
    const forecast = {
      generatedAtMs: 0,
      series: [
        {
          stream: 't',
          points: [
            { timestampMs: 0, value: 100, lower: 80, upper: 130 },
            { timestampMs: 10_000, value: 200, lower: 160, upper: 260 },
          ],
        },
      ],
    };
    s.add({
      kind: 'decision',
      atMs: 0,
      input: { fleet: fleet(1), metrics: null, forecast },
      decision: decision(0, 'hold', 1, 1),
    });
    s.add({
      kind: 'decision',
      atMs: 5000,
      input: { fleet: fleet(2), metrics: null, forecast },
      decision: decision(5000, 'scale-out', 3, 2),
    });
    s.add({ kind: 'set-target', atMs: 5000, totalUnits: 3, previousUnits: 2 });
    s.add({ kind: 'drain-started', atMs: 6000, instanceId: 'w-1', reason: 'interruption' });
    s.add({
      kind: 'terminated',
      atMs: 7000,
      instanceId: 'w-1',
      reason: 'interruption',
      how: 'drained',
      drainSeconds: 1,
      checkpointIds: ['c'],
    });
    expect(s.samples).toHaveLength(2);
    expect(s.samples[1]).toMatchObject({
      offeredRate: 120,
      desiredUnits: 3,
      forecast: { value: 150, lower: 120, upper: 195 },
    });
    expect(s.counts).toMatchObject({ scaleOuts: 1, drains: 1, interruptions: 1, scaleIns: 0 });
    // 2 instances × 5 s at $3.6/h = $0.01
    expect(s.costSoFar).toBeCloseTo(0.01, 10);
    expect(s.entries.map((e) => e.kind)).toEqual(['decision', 'set-target', 'drain-started', 'terminated']);

    const html = renderFragment(
      s,
      new Map([['w-0', { instanceId: 'w-0', state: 'ready', ownedPartitions: 4, stateBytes: 2048 }]]),
      10_000,
    );
    expect(html).toContain('data-series="forecast"');
    expect(html).toContain('data-instance="w-0"');
    expect(html).toContain('<td>4</td>');
    expect(html).toContain('need 3 units');
    expect(html).toContain('kind-terminated');
  });
});
