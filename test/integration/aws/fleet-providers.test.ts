import { CancelSpotFleetRequestsCommand, RequestSpotFleetCommand } from '@aws-sdk/client-ec2';
import { afterAll, onTestFinished } from 'vitest';
import { AsgFleetProvider } from '../../../infra/aws/asg-fleet-provider.js';
import { createAutoScalingClient, createEc2Client } from '../../../infra/aws/aws-clients.js';
import { SpotFleetProvider } from '../../../infra/aws/spot-fleet-provider.js';
import { fleetProviderContract } from '../../contracts/fleet-provider-contract.js';
import { createMixedInstancesGroup, motoImageId } from '../helpers/moto-fleets.js';
import { awsConnection } from '../helpers/stack-endpoints.js';

const ec2 = createEc2Client(awsConnection);
const autoscaling = createAutoScalingClient(awsConnection);
afterAll(() => {
  ec2.destroy();
  autoscaling.destroy();
});

fleetProviderContract('Auto Scaling group with a mixed-instances policy (moto)', async () => {
  const groupName = await createMixedInstancesGroup(ec2, autoscaling, 3);
  return {
    provider: new AsgFleetProvider(autoscaling, ec2, { groupName }),
    initialUnits: 3,
    instanceTypes: ['m5.large', 'm5a.large'],
  };
});

fleetProviderContract('Spot Fleet request with weighted launch specifications (moto)', async () => {
  const ami = await motoImageId(ec2);
  const requested = await ec2.send(
    new RequestSpotFleetCommand({
      SpotFleetRequestConfig: {
        IamFleetRole: 'arn:aws:iam::123456789012:role/liveagg-test-fleet',
        TargetCapacity: 4,
        Type: 'maintain',
        AllocationStrategy: 'lowestPrice',
        ExcessCapacityTerminationPolicy: 'noTermination',
        LaunchSpecifications: [
          { ImageId: ami, InstanceType: 'm5.xlarge', WeightedCapacity: 2 },
          { ImageId: ami, InstanceType: 'm5a.xlarge', WeightedCapacity: 2 },
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
  return {
    provider: new SpotFleetProvider(ec2, { spotFleetRequestId: id }),
    initialUnits: 4,
    instanceTypes: ['m5.xlarge', 'm5a.xlarge'],
  };
});
