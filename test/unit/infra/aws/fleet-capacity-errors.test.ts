import { describe, expect, it } from 'vitest';
import { poolsOfCapacityError } from '../../../../autoscaler/ports/fleet-provider.js';
import {
  capacityCodeOf,
  capacityErrorOfFleetEvent,
  poolHintOf,
} from '../../../../infra/aws/fleet-capacity-errors.js';

describe('capacity reports in fleet texts', () => {
  it('recognises the capacity codes and sentences EC2 and Auto Scaling write, and nothing else', () => {
    expect(capacityCodeOf('Could not launch Spot Instances. InsufficientInstanceCapacity - …')).toBe(
      'InsufficientInstanceCapacity',
    );
    expect(capacityCodeOf('There is no Spot capacity available that matches your request.')).toBe(
      'InsufficientInstanceCapacity',
    );
    expect(
      capacityCodeOf(
        'We currently do not have sufficient c6i.xlarge capacity in the Availability Zone you requested',
      ),
    ).toBe('InsufficientInstanceCapacity');
    expect(
      capacityCodeOf(
        'c5.large, ami-1, Linux/UNIX, us-east-1a, Spot bid price is less than Spot market price',
      ),
    ).toBe('SpotMaxPriceTooLow');
    expect(capacityCodeOf('capacity-oversubscribed')).toBe('capacity-oversubscribed');
    expect(capacityCodeOf('The IAM fleet role cannot launch instances')).toBeUndefined();
    expect(capacityCodeOf('Launching a new EC2 instance: i-0abc')).toBeUndefined();
  });

  it('finds the pool: a fleet type named in the text first, else anything shaped like a type, and the AZ', () => {
    expect(
      poolHintOf('m6i.2xlarge, ami-1, Linux/UNIX, us-east-1b, …', ['m6i.xlarge', 'm6i.2xlarge']),
    ).toEqual({
      instanceType: 'm6i.2xlarge',
      availabilityZone: 'us-east-1b',
    });
    expect(poolHintOf('sufficient r7gd.metal capacity in (eu-west-3c)')).toEqual({
      instanceType: 'r7gd.metal',
      availabilityZone: 'eu-west-3c',
    });
    expect(poolHintOf('no Spot capacity in us-gov-west-1a')).toEqual({ availabilityZone: 'us-gov-west-1a' });
    expect(poolHintOf('no capacity anywhere')).toEqual({});
  });

  it('maps a report to the policy pools it names (a type alone: every AZ of it; an AZ alone: every type in it)', () => {
    const pools = [
      { instanceType: 'a.x', availabilityZone: 'z1' },
      { instanceType: 'a.x', availabilityZone: 'z2' },
      { instanceType: 'b.x', availabilityZone: 'z1' },
    ];
    expect(poolsOfCapacityError({ instanceType: 'a.x' }, pools)).toEqual(['a.x@z1', 'a.x@z2']);
    expect(poolsOfCapacityError({ availabilityZone: 'z1' }, pools)).toEqual(['a.x@z1', 'b.x@z1']);
    expect(poolsOfCapacityError({ instanceType: 'c.x', availabilityZone: 'z9' }, pools)).toEqual(['c.x@z9']);
    expect(poolsOfCapacityError({}, pools)).toEqual([]);
  });

  it('ignores instance events and fleet events that are not about capacity', () => {
    const at = new Date('2026-11-26T10:00:00Z');
    expect(
      capacityErrorOfFleetEvent(
        { EventType: 'instanceChange', Timestamp: at, EventInformation: { EventSubType: 'launched' } },
        'x',
        [],
      ),
    ).toBeUndefined();
    expect(
      capacityErrorOfFleetEvent(
        { EventType: 'error', Timestamp: at, EventInformation: { EventSubType: 'iamFleetRoleInvalid' } },
        'x',
        [],
      ),
    ).toBeUndefined();
    expect(
      capacityErrorOfFleetEvent(
        {
          EventType: 'error',
          Timestamp: at,
          EventInformation: { EventSubType: 'allLaunchSpecsTemporarilyBlacklisted' },
        },
        'Spot Fleet history',
        [],
      ),
    ).toEqual({
      atMs: at.getTime(),
      code: 'allLaunchSpecsTemporarilyBlacklisted',
      message: 'Spot Fleet history error/allLaunchSpecsTemporarilyBlacklisted: ',
    });
  });
});
