import { CreateAutoScalingGroupCommand, DeleteAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import {
  CancelSpotFleetRequestsCommand,
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  DescribeImagesCommand,
  RequestSpotFleetCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, onTestFinished } from 'vitest';
import { AsgFleetProvider } from '../../../infra/aws/asg-fleet-provider.js';
import { createAutoScalingClient, createEc2Client } from '../../../infra/aws/aws-clients.js';
import { SpotFleetProvider } from '../../../infra/aws/spot-fleet-provider.js';
import { fleetProviderContract } from '../../contracts/fleet-provider-contract.js';
import { awsConnection, uniqueName } from '../helpers/stack-endpoints.js';

const ec2 = createEc2Client(awsConnection);
const autoscaling = createAutoScalingClient(awsConnection);
afterAll(() => {
  ec2.destroy();
  autoscaling.destroy();
});

async function imageId(): Promise<string> {
  const images = await ec2.send(new DescribeImagesCommand({}));
  const id = images.Images?.[0]?.ImageId;
  if (!id) throw new Error('moto lists no AMI');
  return id;
}

fleetProviderContract('Auto Scaling group with a mixed-instances policy (moto)', async () => {
  const templateName = uniqueName('la-test-lt');
  const template = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: templateName,
      LaunchTemplateData: { ImageId: await imageId(), InstanceType: 'm5.large' },
    }),
  );
  const templateId = template.LaunchTemplate?.LaunchTemplateId;
  onTestFinished(async () => {
    await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: templateId }));
  });
  const groupName = uniqueName('la-test-asg');
  await autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: groupName,
      MinSize: 0,
      MaxSize: 10,
      DesiredCapacity: 3,
      AvailabilityZones: ['us-east-1a', 'us-east-1b'],
      MixedInstancesPolicy: {
        LaunchTemplate: {
          LaunchTemplateSpecification: { LaunchTemplateId: templateId, Version: '$Latest' },
          Overrides: [
            { InstanceType: 'm5.large', WeightedCapacity: '1' },
            { InstanceType: 'm5a.large', WeightedCapacity: '1' },
          ],
        },
        InstancesDistribution: {
          OnDemandBaseCapacity: 0,
          OnDemandPercentageAboveBaseCapacity: 0,
          SpotAllocationStrategy: 'price-capacity-optimized',
        },
      },
    }),
  );
  onTestFinished(async () => {
    await autoscaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: groupName, ForceDelete: true }),
    );
  });
  return {
    provider: new AsgFleetProvider(autoscaling, ec2, { groupName }),
    initialUnits: 3,
    instanceTypes: ['m5.large', 'm5a.large'],
  };
});

fleetProviderContract('Spot Fleet request with weighted launch specifications (moto)', async () => {
  const ami = await imageId();
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
