import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import type { FleetInstance, InstanceId, InstanceState } from '../../autoscaler/ports/fleet-provider.js';
import { callAws } from './aws-errors.js';

/** The slice of the EC2 client the adapters use. */
export type Ec2Api = Pick<EC2Client, 'send'>;

/**
 * Tag a worker (or the control loop on its behalf) sets once it has joined the group and restored its state; value =
 * epoch ms. EC2 cannot know readiness, so an instance without it is `running`, with it `ready`.
 */
export const READY_TAG = 'liveagg:ready';

/** DescribeInstances accepts up to 200 values per filter. */
const IDS_PER_CALL = 200;

/** An EC2 instance as the fleet adapters need it (before the fleet adds its weight). */
export type Ec2InstanceDetails = Omit<FleetInstance, 'weightUnits'>;

/** Maps EC2's instance state (and the ready tag) onto the autoscaler's lifecycle. */
export function instanceStateOf(
  ec2State: string | undefined,
  tags: Readonly<Record<string, string>>,
): InstanceState {
  switch (ec2State) {
    case 'pending':
      return 'pending';
    case 'running':
      return tags[READY_TAG] !== undefined ? 'ready' : 'running';
    case 'terminated':
      return 'terminated';
    default:
      // shutting-down, stopping, stopped: capacity that is going away.
      return 'shutting-down';
  }
}

export function detailsOf(instance: Instance): Ec2InstanceDetails | undefined {
  if (!instance.InstanceId) return undefined;
  const tags: Record<string, string> = {};
  for (const t of instance.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
  const details: Ec2InstanceDetails = {
    instanceId: instance.InstanceId,
    instanceType: instance.InstanceType ?? 'unknown',
    availabilityZone: instance.Placement?.AvailabilityZone ?? 'unknown',
    market: instance.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand',
    state: instanceStateOf(instance.State?.Name, tags),
    launchTimeMs: instance.LaunchTime ? instance.LaunchTime.getTime() : 0,
    tags,
  };
  const ready = Number(tags[READY_TAG]);
  if (details.state === 'ready' && Number.isFinite(ready) && ready > 0) details.readyTimeMs = ready;
  return details;
}

/**
 * Details of the given instances, by id. Uses an `instance-id` filter rather than `InstanceIds`, so an id that has
 * vanished is simply absent instead of failing the whole call.
 */
export async function describeInstanceDetails(
  ec2: Ec2Api,
  instanceIds: readonly InstanceId[],
): Promise<Map<InstanceId, Ec2InstanceDetails>> {
  const out = new Map<InstanceId, Ec2InstanceDetails>();
  for (let i = 0; i < instanceIds.length; i += IDS_PER_CALL) {
    const ids = instanceIds.slice(i, i + IDS_PER_CALL);
    let nextToken: string | undefined;
    do {
      const page = await callAws('DescribeInstances', () =>
        ec2.send(
          new DescribeInstancesCommand({
            Filters: [{ Name: 'instance-id', Values: ids }],
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          const details = detailsOf(instance);
          if (details) out.set(details.instanceId, details);
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return out;
}

/** Adds or overwrites tags on one instance. */
export async function tagEc2Instance(
  ec2: Ec2Api,
  instanceId: InstanceId,
  tags: Readonly<Record<string, string>>,
): Promise<void> {
  const entries = Object.entries(tags);
  if (entries.length === 0) return;
  await callAws(
    'CreateTags',
    () =>
      ec2.send(
        new CreateTagsCommand({
          Resources: [instanceId],
          Tags: entries.map(([Key, Value]) => ({ Key, Value })),
        }),
      ),
    { instanceId },
  );
}

/** Removes tags by key (missing keys are ignored by EC2). */
export async function untagEc2Instance(
  ec2: Ec2Api,
  instanceId: InstanceId,
  keys: readonly string[],
): Promise<void> {
  if (keys.length === 0) return;
  await callAws(
    'DeleteTags',
    () => ec2.send(new DeleteTagsCommand({ Resources: [instanceId], Tags: keys.map((Key) => ({ Key })) })),
    { instanceId },
  );
}
