import {
  DescribeInstancesCommand,
  DescribeSpotFleetInstancesCommand,
  DescribeSpotFleetRequestHistoryCommand,
  DescribeSpotFleetRequestsCommand,
  EC2Client,
  ModifySpotFleetRequestCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { isNotFound } from '../../../../autoscaler/ports/errors.js';
import { SpotFleetProvider } from '../../../../infra/aws/spot-fleet-provider.js';

const ec2Mock = mockClient(EC2Client);
const ec2 = new EC2Client({ region: 'us-east-1' });
const spotFleetRequestId = 'sfr-11111111-2222-3333-4444-555555555555';

beforeEach(() => {
  ec2Mock.reset();
  ec2Mock.on(DescribeSpotFleetRequestsCommand).resolves({
    SpotFleetRequestConfigs: [
      {
        SpotFleetRequestId: spotFleetRequestId,
        SpotFleetRequestConfig: {
          IamFleetRole: 'arn:aws:iam::123456789012:role/fleet',
          TargetCapacity: 12,
          LaunchTemplateConfigs: [
            {
              Overrides: [
                { InstanceType: 'm6i.xlarge', WeightedCapacity: 4 },
                { InstanceType: 'm6i.2xlarge', WeightedCapacity: 8 },
              ],
            },
          ],
        },
      },
    ],
  });
  ec2Mock.on(DescribeSpotFleetInstancesCommand).resolves({
    ActiveInstances: [
      { InstanceId: 'i-a', InstanceType: 'm6i.xlarge' },
      { InstanceId: 'i-b', InstanceType: 'm6i.2xlarge' },
    ],
  });
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
});

describe('SpotFleetProvider requests', () => {
  it('changes the target with ExcessCapacityTerminationPolicy noTermination, in whole units', async () => {
    ec2Mock.on(ModifySpotFleetRequestCommand).resolves({ Return: true });
    await new SpotFleetProvider(ec2, { spotFleetRequestId }).setTargetCapacity({ totalUnits: 16.5 });
    expect(ec2Mock.commandCalls(ModifySpotFleetRequestCommand)[0]?.args[0].input).toEqual({
      SpotFleetRequestId: spotFleetRequestId,
      TargetCapacity: 17,
      ExcessCapacityTerminationPolicy: 'noTermination',
    });
  });

  it('reads weights from launch-template overrides', async () => {
    const snapshot = await new SpotFleetProvider(ec2, { spotFleetRequestId }).describe();
    expect(snapshot.targetUnits).toBe(12);
    expect(snapshot.instances.map((i) => [i.instanceId, i.weightUnits])).toEqual([
      ['i-a', 4],
      ['i-b', 8],
    ]);
  });

  it('lowers the target by the victim weight before terminating exactly that instance', async () => {
    const order: string[] = [];
    ec2Mock.on(ModifySpotFleetRequestCommand).callsFake(() => {
      order.push('modify');
      return { Return: true };
    });
    ec2Mock.on(TerminateInstancesCommand).callsFake(() => {
      order.push('terminate');
      return {};
    });
    await new SpotFleetProvider(ec2, { spotFleetRequestId }).terminateInstance('i-b', {
      decrementCapacity: true,
    });
    expect(order).toEqual(['modify', 'terminate']);
    expect(ec2Mock.commandCalls(ModifySpotFleetRequestCommand)[0]?.args[0].input).toMatchObject({
      TargetCapacity: 4,
      ExcessCapacityTerminationPolicy: 'noTermination',
    });
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)[0]?.args[0].input).toEqual({
      InstanceIds: ['i-b'],
    });
  });

  it('never touches an instance that is not active in the fleet', async () => {
    const error = await new SpotFleetProvider(ec2, { spotFleetRequestId })
      .terminateInstance('i-elsewhere', { decrementCapacity: true })
      .catch((e: unknown) => e);
    expect(isNotFound(error)).toBe(true);
    expect(ec2Mock.commandCalls(ModifySpotFleetRequestCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
  });
});

// moto has no DescribeSpotFleetRequestHistory (its server answers with an HTML error page), so the asynchronous
// capacity reports are checked here against the documented shapes (EC2 API Reference: HistoryRecord, EventInformation).
describe('SpotFleetProvider capacity reports (request history)', () => {
  it('reports capacity shortages from error/information events with their pool, paging, oldest first', async () => {
    ec2Mock
      .on(DescribeSpotFleetRequestHistoryCommand)
      .resolvesOnce({
        HistoryRecords: [
          {
            EventType: 'information',
            Timestamp: new Date('2026-11-26T10:05:00Z'),
            EventInformation: {
              EventSubType: 'launchSpecUnusable',
              EventDescription:
                'm6i.2xlarge, ami-0abc, Linux/UNIX, us-east-1b, Spot bid price is less than Spot market price $0.1925',
            },
          },
          {
            EventType: 'instanceChange',
            Timestamp: new Date('2026-11-26T10:04:00Z'),
            EventInformation: { EventSubType: 'launched', InstanceId: 'i-c' },
          },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        HistoryRecords: [
          {
            EventType: 'error',
            Timestamp: new Date('2026-11-26T10:01:00Z'),
            EventInformation: {
              EventSubType: 'launchSpecTemporarilyBlacklisted',
              EventDescription:
                'm6i.xlarge, ami-0abc, Linux/UNIX, us-east-1a: InsufficientInstanceCapacity: There is no Spot capacity available that matches your request.',
            },
          },
          {
            EventType: 'error',
            Timestamp: new Date('2026-11-26T10:02:00Z'),
            EventInformation: { EventSubType: 'iamFleetRoleInvalid', EventDescription: 'role cannot launch' },
          },
        ],
      });
    const since = Date.parse('2026-11-26T10:00:00Z');
    const errors = await new SpotFleetProvider(ec2, { spotFleetRequestId }).capacityErrors(since);
    const calls = ec2Mock.commandCalls(DescribeSpotFleetRequestHistoryCommand);
    expect(calls.map((c) => c.args[0].input)).toEqual([
      { SpotFleetRequestId: spotFleetRequestId, StartTime: new Date(since) },
      { SpotFleetRequestId: spotFleetRequestId, StartTime: new Date(since), NextToken: 'page-2' },
    ]);
    expect(errors.map(({ message: _, ...e }) => e)).toEqual([
      {
        instanceType: 'm6i.xlarge',
        availabilityZone: 'us-east-1a',
        atMs: Date.parse('2026-11-26T10:01:00Z'),
        code: 'InsufficientInstanceCapacity',
      },
      {
        instanceType: 'm6i.2xlarge',
        availabilityZone: 'us-east-1b',
        atMs: Date.parse('2026-11-26T10:05:00Z'),
        code: 'SpotMaxPriceTooLow',
      },
    ]);
    expect(errors[0]?.message).toMatch(
      /^Spot Fleet history error\/launchSpecTemporarilyBlacklisted: m6i\.xlarge/,
    );
  });
});
