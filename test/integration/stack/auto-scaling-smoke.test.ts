import {
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  DescribeImagesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { createAutoScalingClient, createEc2Client } from '../../../infra/aws/aws-clients.js';
import { awsConnection, uniqueName } from '../helpers/stack-endpoints.js';

const ec2 = createEc2Client(awsConnection);
const asg = createAutoScalingClient(awsConnection);
afterAll(() => {
  ec2.destroy();
  asg.destroy();
});

async function group(name: string) {
  const out = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  const g = out.AutoScalingGroups?.[0];
  if (!g) throw new Error(`group ${name} not found`);
  return g;
}

describe('Auto Scaling on moto (AWS SDK v3)', () => {
  it('runs a MixedInstancesPolicy group, follows SetDesiredCapacity and decrements on TerminateInstance', async () => {
    const images = await ec2.send(new DescribeImagesCommand({}));
    const imageId = images.Images?.[0]?.ImageId;
    const templateName = uniqueName('la-test-lt');
    const template = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: templateName,
        LaunchTemplateData: { ImageId: imageId, InstanceType: 'm5.large' },
      }),
    );
    const templateId = template.LaunchTemplate?.LaunchTemplateId;
    onTestFinished(async () => {
      await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: templateId }));
    });

    const name = uniqueName('la-test-asg');
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        MinSize: 0,
        MaxSize: 6,
        DesiredCapacity: 2,
        AvailabilityZones: ['us-east-1a'],
        MixedInstancesPolicy: {
          LaunchTemplate: {
            LaunchTemplateSpecification: { LaunchTemplateId: templateId, Version: '$Latest' },
            Overrides: [
              { InstanceType: 'm5.large' },
              { InstanceType: 'm5a.large' },
              { InstanceType: 'm6i.large' },
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
      await asg.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }));
    });
    const created = await group(name);
    expect(created.MixedInstancesPolicy?.LaunchTemplate?.Overrides?.map((o) => o.InstanceType)).toEqual([
      'm5.large',
      'm5a.large',
      'm6i.large',
    ]);
    expect(created.Instances).toHaveLength(2);

    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: name, DesiredCapacity: 4 }));
    const scaled = await group(name);
    expect(scaled.DesiredCapacity).toBe(4);
    expect(scaled.Instances).toHaveLength(4);

    const victim = scaled.Instances?.[0]?.InstanceId;
    const terminated = await asg.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: victim,
        ShouldDecrementDesiredCapacity: true,
      }),
    );
    expect(terminated.Activity?.StatusCode).toBeDefined();
    const after = await group(name);
    expect(after.DesiredCapacity).toBe(3);
    const ids = (after.Instances ?? []).map((i) => i.InstanceId);
    expect(ids).toHaveLength(3);
    expect(ids).not.toContain(victim);
  });
});
