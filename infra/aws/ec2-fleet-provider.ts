import {
  DescribeFleetHistoryCommand,
  DescribeFleetInstancesCommand,
  DescribeFleetsCommand,
  type FleetData,
  ModifyFleetCommand,
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
import { capacityCodeOf, capacityErrorOfFleetEvent } from './fleet-capacity-errors.js';

export interface Ec2FleetProviderOptions {
  /** The EC2 Fleet (`fleet-…`), of type `maintain`. */
  fleetId: string;
  now?: () => number;
}

/** A DescribeFleets error is reported with the time it was first seen (the API gives it no timestamp). */
function fleetErrorKey(e: { ErrorCode?: string; ErrorMessage?: string }, pool: string): string {
  return `${pool}|${e.ErrorCode ?? ''}|${e.ErrorMessage ?? ''}`;
}

/**
 * FleetProvider over an EC2 Fleet of type `maintain`. Target capacity is TotalTargetCapacity in weighted units (the
 * launch-template overrides' WeightedCapacity; 1 when unset). Every ModifyFleet carries ExcessCapacityTerminationPolicy
 * `no-termination`, so lowering the target never lets the fleet choose a victim: scale-in lowers the target by the
 * drained instance's weight, then terminates that instance. ModifyFleet changes only the total, so `perPool` is ignored.
 */
export class Ec2FleetProvider implements FleetProvider {
  private readonly now: () => number;
  /** DescribeFleets errors → when they were first seen, so a standing error is reported with one time. */
  private readonly errorsSeen = new Map<string, number>();
  constructor(
    private readonly ec2: Ec2Api,
    private readonly options: Ec2FleetProviderOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async describe(): Promise<FleetSnapshot> {
    const fleet = await this.fleet();
    const weights = fleetWeights(fleet);
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
    return {
      observedAtMs: this.now(),
      targetUnits: fleet.TargetCapacitySpecification?.TotalTargetCapacity ?? 0,
      instances,
    };
  }

  async setTargetCapacity(request: CapacityRequest): Promise<void> {
    await this.modifyTarget(Math.ceil(request.totalUnits));
  }

  async terminateInstance(instanceId: InstanceId, options: { decrementCapacity: boolean }): Promise<void> {
    const member = (await this.activeInstances()).find((a) => a.instanceId === instanceId);
    if (!member) {
      throw new InstanceNotFoundError(
        instanceId,
        `instance ${instanceId} is not active in EC2 Fleet ${this.options.fleetId}; it has already been terminated or belongs elsewhere`,
      );
    }
    if (options.decrementCapacity) {
      const fleet = await this.fleet();
      const weight = fleetWeights(fleet).get(member.instanceType ?? '') ?? 1;
      const target = fleet.TargetCapacitySpecification?.TotalTargetCapacity ?? 0;
      await this.modifyTarget(Math.max(0, target - weight));
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
   * Capacity shortages the fleet recorded: its `Errors` in DescribeFleets (code and the override's type and AZ; no
   * timestamp, so each is dated when first seen here) and the `error`/`information` events of DescribeFleetHistory
   * that carry a capacity code or say a launch specification is unusable.
   */
  async capacityErrors(sinceMs: number): Promise<PoolCapacityError[]> {
    const fleet = await this.fleet();
    const types = [...fleetWeights(fleet).keys()];
    const out: PoolCapacityError[] = [];
    const standing = new Set<string>();
    for (const e of fleet.Errors ?? []) {
      const recognised = capacityCodeOf(`${e.ErrorCode ?? ''} ${e.ErrorMessage ?? ''}`);
      if (recognised === undefined) continue;
      const code = e.ErrorCode ?? recognised;
      const o = e.LaunchTemplateAndOverrides?.Overrides;
      const pool = `${o?.InstanceType ?? ''}@${o?.AvailabilityZone ?? ''}`;
      const key = fleetErrorKey(e, pool);
      standing.add(key);
      const first = this.errorsSeen.get(key) ?? this.now();
      this.errorsSeen.set(key, first);
      if (first < sinceMs) continue;
      out.push({
        ...(o?.InstanceType ? { instanceType: o.InstanceType } : {}),
        ...(o?.AvailabilityZone ? { availabilityZone: o.AvailabilityZone } : {}),
        atMs: first,
        code,
        message: `EC2 Fleet error (${e.Lifecycle ?? 'spot'}): ${code}: ${e.ErrorMessage ?? ''}`,
      });
    }
    for (const key of [...this.errorsSeen.keys()]) if (!standing.has(key)) this.errorsSeen.delete(key);
    let nextToken: string | undefined;
    do {
      const page = await callAws('DescribeFleetHistory', () =>
        this.ec2.send(
          new DescribeFleetHistoryCommand({
            FleetId: this.options.fleetId,
            StartTime: new Date(sinceMs),
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      for (const record of page.HistoryRecords ?? []) {
        const error = capacityErrorOfFleetEvent(record, 'EC2 Fleet history', types);
        if (error) out.push(error);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return out.sort((a, b) => a.atMs - b.atMs);
  }

  private async modifyTarget(totalTargetCapacity: number): Promise<void> {
    await callAws('ModifyFleet', () =>
      this.ec2.send(
        new ModifyFleetCommand({
          FleetId: this.options.fleetId,
          TargetCapacitySpecification: { TotalTargetCapacity: totalTargetCapacity },
          ExcessCapacityTerminationPolicy: 'no-termination',
        }),
      ),
    );
  }

  private async fleet(): Promise<FleetData> {
    const id = this.options.fleetId;
    const out = await callAws('DescribeFleets', () =>
      this.ec2.send(new DescribeFleetsCommand({ FleetIds: [id] })),
    );
    const fleet = out.Fleets?.[0];
    if (!fleet) {
      throw new AwsApiError(
        'DescribeFleets',
        'InvalidFleetId.NotFound',
        `EC2 Fleet ${id} does not exist; check fleet.fleetId in the config`,
        false,
      );
    }
    return fleet;
  }

  private async activeInstances(): Promise<{ instanceId: string; instanceType: string | undefined }[]> {
    const out: { instanceId: string; instanceType: string | undefined }[] = [];
    let nextToken: string | undefined;
    do {
      const page = await callAws('DescribeFleetInstances', () =>
        this.ec2.send(
          new DescribeFleetInstancesCommand({
            FleetId: this.options.fleetId,
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

/** Weight per instance type from the fleet's launch-template overrides. */
export function fleetWeights(fleet: FleetData): Map<string, number> {
  const weights = new Map<string, number>();
  for (const ltc of fleet.LaunchTemplateConfigs ?? []) {
    for (const o of ltc.Overrides ?? []) {
      const w = o.WeightedCapacity;
      if (o.InstanceType) weights.set(o.InstanceType, w !== undefined && w > 0 ? w : 1);
    }
  }
  return weights;
}
