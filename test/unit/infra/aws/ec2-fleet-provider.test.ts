import {
  DescribeFleetHistoryCommand,
  DescribeFleetInstancesCommand,
  DescribeFleetsCommand,
  DescribeInstancesCommand,
  EC2Client,
  ModifyFleetCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { isInsufficientCapacity, isNotFound, isRetryable } from '../../../../autoscaler/ports/errors.js';
import { Ec2FleetProvider } from '../../../../infra/aws/ec2-fleet-provider.js';

// moto implements CreateFleet/DescribeFleets/DescribeFleetInstances but not ModifyFleet, so this adapter's requests are
// checked here against the documented API shapes (EC2 API Reference: ModifyFleet, DescribeFleets, DescribeFleetInstances).
const ec2Mock = mockClient(EC2Client);
const ec2 = new EC2Client({ region: 'us-east-1' });
const fleetId = 'fleet-0123456789abcdef0';
const launch = new Date('2026-11-26T10:00:00Z');

function fleetWithTarget(total: number) {
  return {
    Fleets: [
      {
        FleetId: fleetId,
        Type: 'maintain' as const,
        TargetCapacitySpecification: {
          TotalTargetCapacity: total,
          DefaultTargetCapacityType: 'spot' as const,
        },
        LaunchTemplateConfigs: [
          {
            LaunchTemplateSpecification: { LaunchTemplateId: 'lt-1', Version: '$Latest' },
            Overrides: [
              { InstanceType: 'm6i.xlarge' as const, WeightedCapacity: 4 },
              { InstanceType: 'm6i.2xlarge' as const, WeightedCapacity: 8 },
            ],
          },
        ],
      },
    ],
  };
}

beforeEach(() => {
  ec2Mock.reset();
  ec2Mock.on(DescribeFleetsCommand).resolves(fleetWithTarget(12));
  ec2Mock.on(DescribeFleetInstancesCommand).resolves({
    FleetId: fleetId,
    ActiveInstances: [
      { InstanceId: 'i-a', InstanceType: 'm6i.xlarge' },
      { InstanceId: 'i-b', InstanceType: 'm6i.2xlarge' },
    ],
  });
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: 'i-a',
            InstanceType: 'm6i.xlarge',
            InstanceLifecycle: 'spot',
            LaunchTime: launch,
            Placement: { AvailabilityZone: 'us-east-1a' },
            State: { Name: 'running' },
            Tags: [{ Key: 'liveagg:ready', Value: '1764151300000' }],
          },
          {
            InstanceId: 'i-b',
            InstanceType: 'm6i.2xlarge',
            LaunchTime: launch,
            Placement: { AvailabilityZone: 'us-east-1b' },
            State: { Name: 'pending' },
          },
        ],
      },
    ],
  });
});

describe('Ec2FleetProvider (EC2 Fleet of type maintain)', () => {
  it('describes the fleet: total target, weights from the overrides, pools, market and ready tag', async () => {
    const snapshot = await new Ec2FleetProvider(ec2, { fleetId, now: () => 42 }).describe();
    expect(snapshot).toMatchObject({ observedAtMs: 42, targetUnits: 12 });
    expect(snapshot.instances).toEqual([
      expect.objectContaining({
        instanceId: 'i-a',
        availabilityZone: 'us-east-1a',
        market: 'spot',
        state: 'ready',
        readyTimeMs: 1764151300000,
        weightUnits: 4,
        launchTimeMs: launch.getTime(),
      }),
      expect.objectContaining({ instanceId: 'i-b', market: 'on-demand', state: 'pending', weightUnits: 8 }),
    ]);
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters).toEqual([
      { Name: 'instance-id', Values: ['i-a', 'i-b'] },
    ]);
  });

  it('scales out with ModifyFleet on the total and the no-termination policy', async () => {
    ec2Mock.on(ModifyFleetCommand).resolves({ Return: true });
    await new Ec2FleetProvider(ec2, { fleetId }).setTargetCapacity({ totalUnits: 19.2 });
    expect(ec2Mock.commandCalls(ModifyFleetCommand).map((c) => c.args[0].input)).toEqual([
      {
        FleetId: fleetId,
        TargetCapacitySpecification: { TotalTargetCapacity: 20 },
        ExcessCapacityTerminationPolicy: 'no-termination',
      },
    ]);
  });

  it('scale-in lowers the target by the victim weight first, then terminates exactly that instance', async () => {
    const order: string[] = [];
    ec2Mock.on(ModifyFleetCommand).callsFake(() => {
      order.push('modify');
      return { Return: true };
    });
    ec2Mock.on(TerminateInstancesCommand).callsFake(() => {
      order.push('terminate');
      return { TerminatingInstances: [{ InstanceId: 'i-b' }] };
    });
    await new Ec2FleetProvider(ec2, { fleetId }).terminateInstance('i-b', { decrementCapacity: true });
    expect(order).toEqual(['modify', 'terminate']);
    expect(ec2Mock.commandCalls(ModifyFleetCommand)[0]?.args[0].input.TargetCapacitySpecification).toEqual({
      TotalTargetCapacity: 4,
    });
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)[0]?.args[0].input).toEqual({
      InstanceIds: ['i-b'],
    });
  });

  it('terminating without decrement leaves the target alone (the fleet replaces the instance)', async () => {
    ec2Mock.on(TerminateInstancesCommand).resolves({});
    await new Ec2FleetProvider(ec2, { fleetId }).terminateInstance('i-a', { decrementCapacity: false });
    expect(ec2Mock.commandCalls(ModifyFleetCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(1);
  });

  it('an instance outside the fleet is InstanceNotFoundError and nothing is modified', async () => {
    const error = await new Ec2FleetProvider(ec2, { fleetId })
      .terminateInstance('i-zzz', { decrementCapacity: true })
      .catch((e: unknown) => e);
    expect(isNotFound(error)).toBe(true);
    expect(ec2Mock.commandCalls(ModifyFleetCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
  });

  it('maps ModifyFleet throttling to a retryable error and capacity errors to InsufficientSpotCapacityError', async () => {
    const provider = new Ec2FleetProvider(ec2, { fleetId });
    ec2Mock
      .on(ModifyFleetCommand)
      .rejectsOnce(Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' }))
      .rejectsOnce(
        Object.assign(new Error('There is no Spot capacity available'), {
          name: 'InsufficientInstanceCapacity',
        }),
      );
    const throttled = await provider.setTargetCapacity({ totalUnits: 16 }).catch((e: unknown) => e);
    expect(throttled).toMatchObject({ code: 'THROTTLED', operation: 'ModifyFleet' });
    expect(isRetryable(throttled)).toBe(true);
    const capacity = await provider.setTargetCapacity({ totalUnits: 16 }).catch((e: unknown) => e);
    expect(isInsufficientCapacity(capacity)).toBe(true);
    expect(isRetryable(capacity)).toBe(false);
  });

  it('a missing fleet names the config field to fix', async () => {
    ec2Mock.on(DescribeFleetsCommand).resolves({ Fleets: [] });
    await expect(new Ec2FleetProvider(ec2, { fleetId }).describe()).rejects.toThrow(/fleet\.fleetId/);
  });
});

// moto has neither DescribeFleetHistory nor fleet Errors for capacity it lacks: checked against the documented shapes
// (EC2 API Reference: DescribeFleetError, HistoryRecordEntry).
describe('Ec2FleetProvider capacity reports (fleet errors and history)', () => {
  it('reports DescribeFleets Errors dated when first seen, and capacity events of the fleet history', async () => {
    let now = Date.parse('2026-11-26T10:10:00Z');
    ec2Mock.on(DescribeFleetsCommand).resolves({
      Fleets: [
        {
          ...fleetWithTarget(12).Fleets[0],
          Errors: [
            {
              LaunchTemplateAndOverrides: {
                LaunchTemplateSpecification: { LaunchTemplateId: 'lt-1', Version: '1' },
                Overrides: { InstanceType: 'm6i.2xlarge', AvailabilityZone: 'us-east-1c' },
              },
              Lifecycle: 'spot',
              ErrorCode: 'InsufficientInstanceCapacity',
              ErrorMessage: 'There is no Spot capacity available that matches your request.',
            },
            { ErrorCode: 'InvalidLaunchTemplateId.NotFound', ErrorMessage: 'lt-2 does not exist' },
          ],
        },
      ],
    });
    ec2Mock.on(DescribeFleetHistoryCommand).resolves({
      HistoryRecords: [
        {
          EventType: 'instance-change',
          Timestamp: new Date('2026-11-26T10:02:00Z'),
          EventInformation: { EventSubType: 'launched', InstanceId: 'i-c' },
        },
        {
          EventType: 'service-error',
          Timestamp: new Date('2026-11-26T10:03:00Z'),
          EventInformation: {
            EventSubType: 'launchSpecUnusable',
            EventDescription: 'm6i.xlarge, ami-0abc, Linux/UNIX, us-east-1a, capacity-not-available',
          },
        },
      ],
    });
    const provider = new Ec2FleetProvider(ec2, { fleetId, now: () => now });
    const since = Date.parse('2026-11-26T10:00:00Z');
    const first = await provider.capacityErrors(since);
    expect(ec2Mock.commandCalls(DescribeFleetHistoryCommand)[0]?.args[0].input).toEqual({
      FleetId: fleetId,
      StartTime: new Date(since),
    });
    expect(first.map(({ message: _, ...e }) => e)).toEqual([
      {
        instanceType: 'm6i.xlarge',
        availabilityZone: 'us-east-1a',
        atMs: Date.parse('2026-11-26T10:03:00Z'),
        code: 'capacity-not-available',
      },
      {
        instanceType: 'm6i.2xlarge',
        availabilityZone: 'us-east-1c',
        atMs: now,
        code: 'InsufficientInstanceCapacity',
      },
    ]);
    // Still listed a minute later: same first-seen time (one report, not a new one per read).
    const firstSeen = now;
    now += 60_000;
    const again = await provider.capacityErrors(since);
    expect(again.find((e) => e.availabilityZone === 'us-east-1c')?.atMs).toBe(firstSeen);
  });
});
