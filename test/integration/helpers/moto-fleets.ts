import {
  type AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  DescribeImagesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { onTestFinished } from 'vitest';
import { uniqueName } from './stack-endpoints.js';

/** An AMI moto knows (its first). */
export async function motoImageId(ec2: EC2Client): Promise<string> {
  const images = await ec2.send(new DescribeImagesCommand({}));
  const id = images.Images?.[0]?.ImageId;
  if (!id) throw new Error('moto lists no AMI');
  return id;
}

/**
 * An Auto Scaling group over two AZs with a mixed-instances policy (m5.large and m5a.large, weight 1, all spot,
 * price-capacity-optimized) and its launch template, both deleted when the current test finishes. Returns its name.
 */
export async function createMixedInstancesGroup(
  ec2: EC2Client,
  autoscaling: AutoScalingClient,
  desiredCapacity: number,
): Promise<string> {
  const template = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: uniqueName('la-test-lt'),
      LaunchTemplateData: { ImageId: await motoImageId(ec2), InstanceType: 'm5.large' },
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
      DesiredCapacity: desiredCapacity,
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
  return groupName;
}
