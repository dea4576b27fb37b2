import {
  type AutoScalingClient,
  type AutoScalingGroup,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { InstanceNotFoundError } from '../../autoscaler/ports/errors.js';
import type {
  CapacityRequest,
  FleetInstance,
  FleetProvider,
  FleetSnapshot,
  InstanceId,
  PoolCapacityError,
} from '../../autoscaler/ports/fleet-provider.js';
import { AwsApiError, awsErrorCode, callAws } from './aws-errors.js';
import {
  describeInstanceDetails,
  type Ec2Api,
  instanceStateOf,
  tagEc2Instance,
  untagEc2Instance,
} from './ec2-instances.js';
import { capacityCodeOf, poolHintOf } from './fleet-capacity-errors.js';

/** Scaling activities read per call (the API's maximum is 100). */
const ACTIVITIES_PER_PAGE = 100;

/** The slice of the Auto Scaling client the adapter uses. */
export type AutoScalingApi = Pick<AutoScalingClient, 'send'>;

export interface AsgFleetProviderOptions {
  /** The Auto Scaling group (with a MixedInstancesPolicy whose Overrides carry WeightedCapacity). */
  groupName: string;
  /**
   * A termination lifecycle hook on the group: after terminating a drained worker the adapter completes the hook with
   * CONTINUE at once (the drain already happened), instead of letting the instance wait out the hook's timeout.
   */
  terminationHookName?: string;
  now?: () => number;
}

/**
 * FleetProvider over an Auto Scaling group with a mixed-instances policy. Capacity is the group's DesiredCapacity in
 * weighted units (each Override's WeightedCapacity; 1 when unset). Scale-in terminates one chosen, drained instance
 * with ShouldDecrementDesiredCapacity so the group does not replace it. The group cannot be steered per pool:
 * `perPool` in a request is ignored (the group's allocation strategy picks pools).
 */
export class AsgFleetProvider implements FleetProvider {
  private readonly now: () => number;
  constructor(
    private readonly autoscaling: AutoScalingApi,
    private readonly ec2: Ec2Api,
    private readonly options: AsgFleetProviderOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async describe(): Promise<FleetSnapshot> {
    const group = await this.group();
    const weights = overrideWeights(group);
    const members = group.Instances ?? [];
    const details = await describeInstanceDetails(
      this.ec2,
      members.flatMap((m) => (m.InstanceId ? [m.InstanceId] : [])),
    );
    const instances: FleetInstance[] = [];
    for (const member of members) {
      if (!member.InstanceId) continue;
      const ec2 = details.get(member.InstanceId);
      const instanceType = member.InstanceType ?? ec2?.instanceType ?? 'unknown';
      const tags = ec2?.tags ?? {};
      const lifecycle = member.LifecycleState ?? '';
      const leaving =
        lifecycle.startsWith('Terminating') || lifecycle.startsWith('Detach') || lifecycle === 'Terminated';
      const instance: FleetInstance = {
        instanceId: member.InstanceId,
        instanceType,
        availabilityZone: member.AvailabilityZone ?? ec2?.availabilityZone ?? 'unknown',
        market: ec2?.market ?? 'spot',
        state: leaving ? 'shutting-down' : ec2 ? ec2.state : instanceStateOf(undefined, tags),
        launchTimeMs: ec2?.launchTimeMs ?? 0,
        weightUnits: weightOf(member.WeightedCapacity, weights.get(instanceType)),
        tags,
      };
      if (ec2?.readyTimeMs !== undefined && instance.state === 'ready')
        instance.readyTimeMs = ec2.readyTimeMs;
      instances.push(instance);
    }
    return { observedAtMs: this.now(), targetUnits: group.DesiredCapacity ?? 0, instances };
  }

  async setTargetCapacity(request: CapacityRequest): Promise<void> {
    // The group's desired capacity is an integer number of units.
    const desired = Math.ceil(request.totalUnits);
    await callAws('SetDesiredCapacity', () =>
      this.autoscaling.send(
        new SetDesiredCapacityCommand({
          AutoScalingGroupName: this.options.groupName,
          DesiredCapacity: desired,
          HonorCooldown: false,
        }),
      ),
    );
  }

  async terminateInstance(instanceId: InstanceId, options: { decrementCapacity: boolean }): Promise<void> {
    // Only ever terminate a member of this group: TerminateInstanceInAutoScalingGroup would act on any group's instance.
    const group = await this.group();
    if (!(group.Instances ?? []).some((i) => i.InstanceId === instanceId)) {
      throw new InstanceNotFoundError(
        instanceId,
        `instance ${instanceId} is not in Auto Scaling group ${this.options.groupName}; it has already been terminated or belongs elsewhere`,
      );
    }
    await callAws(
      'TerminateInstanceInAutoScalingGroup',
      () =>
        this.autoscaling.send(
          new TerminateInstanceInAutoScalingGroupCommand({
            InstanceId: instanceId,
            ShouldDecrementDesiredCapacity: options.decrementCapacity,
          }),
        ),
      { instanceId },
    );
    if (this.options.terminationHookName)
      await this.completeTerminationHook(instanceId, this.options.terminationHookName);
  }

  tagInstance(instanceId: InstanceId, tags: Readonly<Record<string, string>>): Promise<void> {
    return tagEc2Instance(this.ec2, instanceId, tags);
  }

  untagInstance(instanceId: InstanceId, keys: readonly string[]): Promise<void> {
    return untagEc2Instance(this.ec2, instanceId, keys);
  }

  /**
   * Capacity shortages from the group's scaling activities (DescribeScalingActivities, newest first): `Failed` launches
   * whose status message carries a capacity code ("InsufficientInstanceCapacity", "We currently do not have sufficient
   * m5.large capacity in the Availability Zone you requested (us-east-1a)", "There is no Spot capacity available…").
   * The AZ comes from the activity's Details ("Availability Zone") or the message; the type from the message, if named.
   */
  async capacityErrors(sinceMs: number): Promise<PoolCapacityError[]> {
    const types = [...overrideWeights(await this.group()).keys()];
    const out: PoolCapacityError[] = [];
    let nextToken: string | undefined;
    pages: do {
      const page = await callAws('DescribeScalingActivities', () =>
        this.autoscaling.send(
          new DescribeScalingActivitiesCommand({
            AutoScalingGroupName: this.options.groupName,
            MaxRecords: ACTIVITIES_PER_PAGE,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      for (const a of page.Activities ?? []) {
        const atMs = (a.EndTime ?? a.StartTime)?.getTime() ?? 0;
        if ((a.StartTime?.getTime() ?? 0) < sinceMs && atMs < sinceMs) break pages;
        if (a.StatusCode !== 'Failed') continue;
        const text = `${a.StatusMessage ?? ''} ${a.Description ?? ''}`;
        const code = capacityCodeOf(text);
        if (code === undefined) continue;
        const hint = poolHintOf(text, types);
        const az = detailsAz(a.Details) ?? hint.availabilityZone;
        out.push({
          ...(hint.instanceType ? { instanceType: hint.instanceType } : {}),
          ...(az ? { availabilityZone: az } : {}),
          atMs,
          code,
          message: `Auto Scaling activity ${a.ActivityId ?? ''} failed: ${a.StatusMessage ?? a.Description ?? ''}`,
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return out.sort((a, b) => a.atMs - b.atMs);
  }

  private async completeTerminationHook(instanceId: InstanceId, hookName: string): Promise<void> {
    try {
      await this.autoscaling.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: this.options.groupName,
          LifecycleHookName: hookName,
          InstanceId: instanceId,
          LifecycleActionResult: 'CONTINUE',
        }),
      );
    } catch (error) {
      // No action pending (the hook already timed out, or the instance never entered Terminating:Wait): nothing to do.
      if (awsErrorCode(error) === 'ValidationError') return;
      await callAws('CompleteLifecycleAction', () => Promise.reject(error), { instanceId });
    }
  }

  private async group(): Promise<AutoScalingGroup> {
    const out = await callAws('DescribeAutoScalingGroups', () =>
      this.autoscaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [this.options.groupName] }),
      ),
    );
    const group = out.AutoScalingGroups?.[0];
    if (!group) {
      throw new AwsApiError(
        'DescribeAutoScalingGroups',
        'GroupNotFound',
        `Auto Scaling group ${this.options.groupName} does not exist; check fleet.groupName in the config`,
        false,
      );
    }
    return group;
  }
}

/** Weight per instance type from the mixed-instances policy's Overrides. */
export function overrideWeights(group: AutoScalingGroup): Map<string, number> {
  const weights = new Map<string, number>();
  for (const o of group.MixedInstancesPolicy?.LaunchTemplate?.Overrides ?? []) {
    if (o.InstanceType) weights.set(o.InstanceType, weightOf(o.WeightedCapacity, undefined));
  }
  return weights;
}

function weightOf(own: string | undefined, fallback: number | undefined): number {
  const n = Number(own);
  return own !== undefined && Number.isFinite(n) && n > 0 ? n : (fallback ?? 1);
}

/** The "Availability Zone" of a scaling activity's Details (a JSON object as a string), if it names one. */
function detailsAz(details: string | undefined): string | undefined {
  if (!details) return undefined;
  try {
    const parsed = JSON.parse(details) as Record<string, unknown>;
    const az = parsed['Availability Zone'];
    return typeof az === 'string' && az !== '' ? az : undefined;
  } catch {
    return undefined;
  }
}
