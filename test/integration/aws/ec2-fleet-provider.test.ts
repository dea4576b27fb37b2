import {
  CreateFleetCommand,
  CreateLaunchTemplateCommand,
  DeleteFleetsCommand,
  DeleteLaunchTemplateCommand,
  DescribeImagesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { isNotFound } from '../../../autoscaler/ports/errors.js';
import { DRAINING_TAG } from '../../../autoscaler/ports/fleet-provider.js';
import { createEc2Client } from '../../../infra/aws/aws-clients.js';
import { Ec2FleetProvider } from '../../../infra/aws/ec2-fleet-provider.js';
import { awsConnection, uniqueName } from '../helpers/stack-endpoints.js';

// moto implements CreateFleet, DescribeFleets and DescribeFleetInstances but not ModifyFleet, so the contract suite
// (which scales out and decrements) cannot run here: target changes are checked with aws-sdk-client-mock in
// test/unit/infra/aws/ec2-fleet-provider.test.ts. This file covers what moto can serve.
const ec2 = createEc2Client(awsConnection);
afterAll(() => ec2.destroy());

async function createFleet(): Promise<string> {
  const image = (await ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId;
  const template = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: uniqueName('la-test-lt'),
      LaunchTemplateData: { ImageId: image },
    }),
  );
  const templateId = template.LaunchTemplate?.LaunchTemplateId;
  onTestFinished(async () => {
    await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: templateId }));
  });
  const fleet = await ec2.send(
    new CreateFleetCommand({
      Type: 'maintain',
      TargetCapacitySpecification: { TotalTargetCapacity: 4, DefaultTargetCapacityType: 'spot' },
      LaunchTemplateConfigs: [
        {
          LaunchTemplateSpecification: { LaunchTemplateId: templateId, Version: '$Latest' },
          Overrides: [{ InstanceType: 'm5.xlarge', WeightedCapacity: 2 }],
        },
      ],
    }),
  );
  const fleetId = fleet.FleetId;
  if (!fleetId) throw new Error('CreateFleet returned no FleetId');
  onTestFinished(async () => {
    await ec2.send(new DeleteFleetsCommand({ FleetIds: [fleetId], TerminateInstances: true }));
  });
  return fleetId;
}

describe('Ec2FleetProvider against moto (what moto serves)', () => {
  it('describes an EC2 Fleet of type maintain with weights from its overrides, and tags its instances', async () => {
    const provider = new Ec2FleetProvider(ec2, { fleetId: await createFleet() });
    const snapshot = await provider.describe();
    expect(snapshot.targetUnits).toBe(4);
    expect(snapshot.instances).toHaveLength(2);
    for (const i of snapshot.instances) {
      expect(i).toMatchObject({ instanceType: 'm5.xlarge', weightUnits: 2, market: 'spot' });
      expect(i.launchTimeMs).toBeGreaterThan(0);
    }
    const first = snapshot.instances[0];
    if (!first) throw new Error('no instance');
    await provider.tagInstance(first.instanceId, { [DRAINING_TAG]: '42' });
    const tagged = (await provider.describe()).instances.find((i) => i.instanceId === first.instanceId);
    expect(tagged?.tags[DRAINING_TAG]).toBe('42');
    await provider.untagInstance(first.instanceId, [DRAINING_TAG]);
    expect(
      (await provider.describe()).instances.find((i) => i.instanceId === first.instanceId)?.tags[
        DRAINING_TAG
      ],
    ).toBeUndefined();
  });

  it('refuses to terminate an instance outside the fleet', async () => {
    const provider = new Ec2FleetProvider(ec2, { fleetId: await createFleet() });
    const error = await provider
      .terminateInstance('i-0123456789abcdef0', { decrementCapacity: true })
      .catch((e: unknown) => e);
    expect(isNotFound(error)).toBe(true);
    expect((await provider.describe()).targetUnits).toBe(4);
  });
});
