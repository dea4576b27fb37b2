import {
  CancelSpotFleetRequestsCommand,
  DescribeImagesCommand,
  DescribeSpotFleetInstancesCommand,
  DescribeSpotFleetRequestsCommand,
  ModifySpotFleetRequestCommand,
  RequestSpotFleetCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { createEc2Client } from '../../../infra/aws/aws-clients.js';
import { awsConnection } from '../helpers/stack-endpoints.js';

const ec2 = createEc2Client(awsConnection);
afterAll(() => ec2.destroy());

async function fleetInstances(id: string): Promise<string[]> {
  const out = await ec2.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: id }));
  return (out.ActiveInstances ?? []).flatMap((i) => (i.InstanceId ? [i.InstanceId] : []));
}

describe('EC2 spot fleet on moto (AWS SDK v3)', () => {
  it('requests a fleet of 2, raises its target capacity to 4 and sees 4 active instances', async () => {
    const images = await ec2.send(new DescribeImagesCommand({}));
    const imageId = images.Images?.[0]?.ImageId;
    expect(imageId).toBeDefined();

    const requested = await ec2.send(
      new RequestSpotFleetCommand({
        SpotFleetRequestConfig: {
          IamFleetRole: 'arn:aws:iam::123456789012:role/liveagg-test-fleet',
          TargetCapacity: 2,
          AllocationStrategy: 'lowestPrice',
          LaunchSpecifications: [
            { ImageId: imageId, InstanceType: 'm5.large' },
            { ImageId: imageId, InstanceType: 'm5a.large' },
          ],
        },
      }),
    );
    const id = requested.SpotFleetRequestId;
    if (!id) throw new Error('RequestSpotFleet returned no id');
    onTestFinished(async () => {
      await ec2.send(
        new CancelSpotFleetRequestsCommand({ SpotFleetRequestIds: [id], TerminateInstances: true }),
      );
    });
    expect(await fleetInstances(id)).toHaveLength(2);

    await ec2.send(new ModifySpotFleetRequestCommand({ SpotFleetRequestId: id, TargetCapacity: 4 }));
    const described = await ec2.send(new DescribeSpotFleetRequestsCommand({ SpotFleetRequestIds: [id] }));
    expect(described.SpotFleetRequestConfigs?.[0]?.SpotFleetRequestConfig?.TargetCapacity).toBe(4);
    const after = await fleetInstances(id);
    expect(after).toHaveLength(4);
    expect(new Set(after).size).toBe(4);
  });
});
