import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { isNotFound } from '../../../../autoscaler/ports/errors.js';
import { AsgFleetProvider } from '../../../../infra/aws/asg-fleet-provider.js';

// moto has no CompleteLifecycleAction: the termination-hook path is checked here against the documented request shape.
const asgMock = mockClient(AutoScalingClient);
const ec2Mock = mockClient(EC2Client);
const autoscaling = new AutoScalingClient({ region: 'us-east-1' });
const ec2 = new EC2Client({ region: 'us-east-1' });
const groupName = 'liveagg-workers';

beforeEach(() => {
  asgMock.reset();
  ec2Mock.reset();
  asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: groupName,
        MinSize: 0,
        MaxSize: 100,
        DesiredCapacity: 12,
        DefaultCooldown: 300,
        AvailabilityZones: ['us-east-1a'],
        HealthCheckType: 'EC2',
        CreatedTime: new Date(),
        MixedInstancesPolicy: {
          LaunchTemplate: {
            Overrides: [
              { InstanceType: 'm6i.xlarge', WeightedCapacity: '4' },
              { InstanceType: 'm6i.2xlarge', WeightedCapacity: '8' },
            ],
          },
        },
        Instances: [
          {
            InstanceId: 'i-a',
            InstanceType: 'm6i.xlarge',
            AvailabilityZone: 'us-east-1a',
            LifecycleState: 'InService',
            HealthStatus: 'Healthy',
            ProtectedFromScaleIn: false,
          },
          {
            InstanceId: 'i-b',
            InstanceType: 'm6i.2xlarge',
            AvailabilityZone: 'us-east-1b',
            LifecycleState: 'Terminating:Wait',
            HealthStatus: 'Healthy',
            ProtectedFromScaleIn: false,
          },
        ],
      },
    ],
  });
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: 'i-a',
            InstanceLifecycle: 'spot',
            LaunchTime: new Date(1000),
            State: { Name: 'running' },
            Placement: { AvailabilityZone: 'us-east-1a' },
          },
          { InstanceId: 'i-b', LaunchTime: new Date(2000), State: { Name: 'running' } },
        ],
      },
    ],
  });
});

describe('AsgFleetProvider', () => {
  it('reads weights from the overrides and shows instances in Terminating:* as shutting-down', async () => {
    const snapshot = await new AsgFleetProvider(autoscaling, ec2, { groupName }).describe();
    expect(snapshot.targetUnits).toBe(12);
    expect(snapshot.instances.map((i) => [i.instanceId, i.state, i.weightUnits, i.market])).toEqual([
      ['i-a', 'running', 4, 'spot'],
      ['i-b', 'shutting-down', 8, 'on-demand'],
    ]);
  });

  it('sets the desired capacity as whole units without honouring the cooldown', async () => {
    asgMock.on(SetDesiredCapacityCommand).resolves({});
    await new AsgFleetProvider(autoscaling, ec2, { groupName }).setTargetCapacity({ totalUnits: 15.5 });
    expect(asgMock.commandCalls(SetDesiredCapacityCommand)[0]?.args[0].input).toEqual({
      AutoScalingGroupName: groupName,
      DesiredCapacity: 16,
      HonorCooldown: false,
    });
  });

  it('terminates with decrement, then completes the termination hook with CONTINUE', async () => {
    asgMock.on(TerminateInstanceInAutoScalingGroupCommand).resolves({ Activity: undefined });
    asgMock.on(CompleteLifecycleActionCommand).resolves({});
    await new AsgFleetProvider(autoscaling, ec2, {
      groupName,
      terminationHookName: 'drain-hook',
    }).terminateInstance('i-a', { decrementCapacity: true });
    expect(asgMock.commandCalls(TerminateInstanceInAutoScalingGroupCommand)[0]?.args[0].input).toEqual({
      InstanceId: 'i-a',
      ShouldDecrementDesiredCapacity: true,
    });
    expect(asgMock.commandCalls(CompleteLifecycleActionCommand)[0]?.args[0].input).toEqual({
      AutoScalingGroupName: groupName,
      LifecycleHookName: 'drain-hook',
      InstanceId: 'i-a',
      LifecycleActionResult: 'CONTINUE',
    });
  });

  it('a hook with no pending action is not an error', async () => {
    asgMock.on(TerminateInstanceInAutoScalingGroupCommand).resolves({});
    asgMock.on(CompleteLifecycleActionCommand).rejects(
      Object.assign(new Error('No active Lifecycle Action found with instance ID i-a'), {
        name: 'ValidationError',
      }),
    );
    await expect(
      new AsgFleetProvider(autoscaling, ec2, {
        groupName,
        terminationHookName: 'drain-hook',
      }).terminateInstance('i-a', {
        decrementCapacity: true,
      }),
    ).resolves.toBeUndefined();
  });

  it('never terminates an instance of another group', async () => {
    const error = await new AsgFleetProvider(autoscaling, ec2, { groupName })
      .terminateInstance('i-other', { decrementCapacity: true })
      .catch((e: unknown) => e);
    expect(isNotFound(error)).toBe(true);
    expect(asgMock.commandCalls(TerminateInstanceInAutoScalingGroupCommand)).toHaveLength(0);
  });
});

// moto records no failed scaling activities (its launches always succeed), so the capacity reports are checked here
// against the documented shape (Auto Scaling API Reference: Activity; the status messages EC2 Auto Scaling writes).
describe('AsgFleetProvider capacity reports (scaling activities)', () => {
  it('reports failed launches for lack of capacity with their AZ (and type when named), newest pages until `since`', async () => {
    asgMock
      .on(DescribeScalingActivitiesCommand)
      .resolvesOnce({
        Activities: [
          {
            ActivityId: 'a-3',
            AutoScalingGroupName: groupName,
            Cause: 'changing the desired capacity from 12 to 16',
            StartTime: new Date('2026-11-26T10:06:00Z'),
            EndTime: new Date('2026-11-26T10:06:05Z'),
            StatusCode: 'Failed',
            StatusMessage:
              'We currently do not have sufficient m6i.2xlarge capacity in the Availability Zone you requested (us-east-1b). Our system will be working on provisioning additional capacity. Launching EC2 instance failed.',
            Details: '{"Subnet ID":"subnet-1","Availability Zone":"us-east-1b"}',
          },
          {
            ActivityId: 'a-2',
            AutoScalingGroupName: groupName,
            Cause: 'changing the desired capacity from 12 to 16',
            StartTime: new Date('2026-11-26T10:05:00Z'),
            EndTime: new Date('2026-11-26T10:05:03Z'),
            StatusCode: 'Failed',
            StatusMessage:
              'Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot capacity available that matches your request. Launching EC2 instance failed.',
            Details: '{"Subnet ID":"subnet-2","Availability Zone":"us-east-1a"}',
          },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        Activities: [
          {
            ActivityId: 'a-1',
            AutoScalingGroupName: groupName,
            Cause: 'an instance was taken out of service',
            StartTime: new Date('2026-11-26T10:04:00Z'),
            StatusCode: 'Successful',
          },
          {
            ActivityId: 'a-0',
            AutoScalingGroupName: groupName,
            Cause: 'old',
            StartTime: new Date('2026-11-26T09:00:00Z'),
            EndTime: new Date('2026-11-26T09:00:05Z'),
            StatusCode: 'Failed',
            StatusMessage: 'Could not launch Spot Instances. InsufficientInstanceCapacity - old.',
          },
        ],
        NextToken: 'page-3',
      });
    const since = Date.parse('2026-11-26T10:00:00Z');
    const errors = await new AsgFleetProvider(autoscaling, ec2, { groupName }).capacityErrors(since);
    const calls = asgMock.commandCalls(DescribeScalingActivitiesCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { AutoScalingGroupName: groupName, MaxRecords: 100 },
      { AutoScalingGroupName: groupName, MaxRecords: 100, NextToken: 'page-2' },
    ]);
    expect(errors.map(({ message: _, ...e }) => e)).toEqual([
      {
        availabilityZone: 'us-east-1a',
        atMs: Date.parse('2026-11-26T10:05:03Z'),
        code: 'InsufficientInstanceCapacity',
      },
      {
        instanceType: 'm6i.2xlarge',
        availabilityZone: 'us-east-1b',
        atMs: Date.parse('2026-11-26T10:06:05Z'),
        code: 'InsufficientInstanceCapacity',
      },
    ]);
    expect(errors[1]?.message).toMatch(
      /^Auto Scaling activity a-3 failed: We currently do not have sufficient/,
    );
  });
});
