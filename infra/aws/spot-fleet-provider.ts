import {
  DescribeSpotFleetInstancesCommand,
  DescribeSpotFleetRequestHistoryCommand,
  DescribeSpotFleetRequestsCommand,
  ModifySpotFleetRequestCommand,
  type SpotFleetRequestConfigData,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { InstanceNotFoundError } from '../../autoscaler/ports/errors.js';
import type {
  CapacityRequest,
  FleetInstance,
  FleetProvider,
  FleetSnapshot,
  InstanceId,
  PoolCapacityError,
} from '../../autoscaler/ports/fleet-provider.js';
import { AwsApiError, callAws } from './aws-errors.js';
import { describeInstanceDetails, type Ec2Api, tagEc2Instance, untagEc2Instance } from './ec2-instances.js';
import { capacityErrorOfFleetEvent } from './fleet-capacity-errors.js';

export interface SpotFleetProviderOptions {
  /** The Spot Fleet request (`sfr-…`), of type `maintain`. */
  spotFleetRequestId: string;
  now?: () => number;
}

/** An active instance of a fleet as the fleet APIs list it. */
interface ActiveInstance {
  instanceId: string;
  instanceType: string | undefined;
}

/**
 * FleetProvider over a Spot Fleet request. Target capacity is the request's TargetCapacity in weighted units (each
 * launch specification's or override's WeightedCapacity; 1 when unset). Every target change is sent with
 * ExcessCapacityTerminationPolicy `noTermination`, so lowering it never lets the fleet pick its own victim: scale-in
 * lowers the target by the drained instance's weight and then terminates exactly that instance.
 */
export class SpotFleetProvider implements FleetProvider {
  private readonly now: () => number;
  constructor(
    private readonly ec2: Ec2Api,
    private readonly options: SpotFleetProviderOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async describe(): Promise<FleetSnapshot> {
    const config = await this.config();
    const weights = specWeights(config);
    const active = await this.activeInstances();
    const details = await describeInstanceDetails(
      this.ec2,
      active.map((a) => a.instanceId),
    );
    const instances: FleetInstance[] = [];
    for (const a of active) {
      const ec2 = details.get(a.instanceId);
      const instanceType = a.instanceType ?? ec2?.instanceType ?? 'unknown';
      instances.push({
        instanceId: a.instanceId,
        instanceType,
        availabilityZone: ec2?.availabilityZone ?? 'unknown',
        market: ec2?.market ?? 'spot',
        state: ec2?.state ?? 'pending',
        launchTimeMs: ec2?.launchTimeMs ?? 0,
        ...(ec2?.readyTimeMs !== undefined ? { readyTimeMs: ec2.readyTimeMs } : {}),
        weightUnits: weights.get(instanceType) ?? 1,
        tags: ec2?.tags ?? {},
      });
    }
    return { observedAtMs: this.now(), targetUnits: config.TargetCapacity ?? 0, instances };
  }

  async setTargetCapacity(request: CapacityRequest): Promise<void> {
    await this.modifyTarget(Math.ceil(request.totalUnits));
  }

  async terminateInstance(instanceId: InstanceId, options: { decrementCapacity: boolean }): Promise<void> {
    const active = await this.activeInstances();
    const member = active.find((a) => a.instanceId === instanceId);
    if (!member) {
      throw new InstanceNotFoundError(
        instanceId,
        `instance ${instanceId} is not active in Spot Fleet ${this.options.spotFleetRequestId}; it has already been terminated or belongs elsewhere`,
      );
    }
    if (options.decrementCapacity) {
      // Lower the target first (without letting the fleet terminate anything), so the fleet does not replace the victim.
      const config = await this.config();
      const weight = specWeights(config).get(member.instanceType ?? '') ?? 1;
      await this.modifyTarget(Math.max(0, (config.TargetCapacity ?? 0) - weight));
    }
    await callAws(
      'TerminateInstances',
      () => this.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })),
      {
        instanceId,
      },
    );
  }

  tagInstance(instanceId: InstanceId, tags: Readonly<Record<string, string>>): Promise<void> {
    return tagEc2Instance(this.ec2, instanceId, tags);
  }

  untagInstance(instanceId: InstanceId, keys: readonly string[]): Promise<void> {
    return untagEc2Instance(this.ec2, instanceId, keys);
  }

  /**
   * Capacity shortages from the request's history (DescribeSpotFleetRequestHistory): `error` and `information` events
   * whose description carries a capacity code (InsufficientInstanceCapacity, a price below the Spot price, …) or whose
   * sub-type says a launch specification is unusable or blacklisted. The pool comes from the description.
   */
  async capacityErrors(sinceMs: number): Promise<PoolCapacityError[]> {
    const types = [...specWeights(await this.config()).keys()];
    const out: PoolCapacityError[] = [];
    let nextToken: string | undefined;
    do {
      const page = await callAws('DescribeSpotFleetRequestHistory', () =>
        this.ec2.send(
          new DescribeSpotFleetRequestHistoryCommand({
            SpotFleetRequestId: this.options.spotFleetRequestId,
            StartTime: new Date(sinceMs),
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      for (const record of page.HistoryRecords ?? []) {
        const error = capacityErrorOfFleetEvent(record, 'Spot Fleet history', types);
        if (error) out.push(error);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return out.sort((a, b) => a.atMs - b.atMs);
  }

  private async modifyTarget(targetCapacity: number): Promise<void> {
    await callAws('ModifySpotFleetRequest', () =>
      this.ec2.send(
        new ModifySpotFleetRequestCommand({
          SpotFleetRequestId: this.options.spotFleetRequestId,
          TargetCapacity: targetCapacity,
          ExcessCapacityTerminationPolicy: 'noTermination',
        }),
      ),
    );
  }

  private async config(): Promise<SpotFleetRequestConfigData> {
    const id = this.options.spotFleetRequestId;
    const out = await callAws('DescribeSpotFleetRequests', () =>
      this.ec2.send(new DescribeSpotFleetRequestsCommand({ SpotFleetRequestIds: [id] })),
    );
    const config = out.SpotFleetRequestConfigs?.[0]?.SpotFleetRequestConfig;
    if (!config) {
      throw new AwsApiError(
        'DescribeSpotFleetRequests',
        'InvalidSpotFleetRequestId.NotFound',
        `Spot Fleet request ${id} does not exist; check fleet.spotFleetRequestId in the config`,
        false,
      );
    }
    return config;
  }

  private async activeInstances(): Promise<ActiveInstance[]> {
    const out: ActiveInstance[] = [];
    let nextToken: string | undefined;
    do {
      const page = await callAws('DescribeSpotFleetInstances', () =>
        this.ec2.send(
          new DescribeSpotFleetInstancesCommand({
            SpotFleetRequestId: this.options.spotFleetRequestId,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      for (const a of page.ActiveInstances ?? []) {
        if (a.InstanceId) out.push({ instanceId: a.InstanceId, instanceType: a.InstanceType });
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return out;
  }
}

/** Weight per instance type from launch specifications and launch-template overrides. */
export function specWeights(config: SpotFleetRequestConfigData): Map<string, number> {
  const weights = new Map<string, number>();
  for (const spec of config.LaunchSpecifications ?? []) {
    if (spec.InstanceType) weights.set(spec.InstanceType, positiveOr(spec.WeightedCapacity, 1));
  }
  for (const ltc of config.LaunchTemplateConfigs ?? []) {
    for (const o of ltc.Overrides ?? []) {
      if (o.InstanceType) weights.set(o.InstanceType, positiveOr(o.WeightedCapacity, 1));
    }
  }
  return weights;
}

function positiveOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}
