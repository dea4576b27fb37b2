import type { EventInformation } from '@aws-sdk/client-ec2';
import type { PoolCapacityError } from '../../autoscaler/ports/fleet-provider.js';

/**
 * Reading pool-level capacity shortages out of what fleets record asynchronously (Spot Fleet request history, EC2
 * Fleet history and errors, Auto Scaling scaling activities). These are free text around a few stable codes, so
 * the code, the instance type and the AZ are recognised in the text; what is not recognised is left out.
 */

/** Spot Fleet / EC2 Fleet event sub-types that mean a launch specification (one pool) could not be used. */
const POOL_EVENT_SUBTYPES = new Set([
  'launchSpecUnusable',
  'launchSpecTemporarilyBlacklisted',
  'allLaunchSpecsTemporarilyBlacklisted',
]);

/** Text → code, first match wins (codes as EC2 spells them, then the sentences EC2 and Auto Scaling use). */
const CODE_PATTERNS: readonly [RegExp, string][] = [
  [/InsufficientInstanceCapacity/, 'InsufficientInstanceCapacity'],
  [/InsufficientSpotInstanceCapacity/, 'InsufficientSpotInstanceCapacity'],
  [/InsufficientCapacity/, 'InsufficientCapacity'],
  [/SpotMaxPriceTooLow/, 'SpotMaxPriceTooLow'],
  [/capacity-not-available/, 'capacity-not-available'],
  [/capacity-oversubscribed/, 'capacity-oversubscribed'],
  [/price-too-low/, 'price-too-low'],
  [/no Spot capacity available/i, 'InsufficientInstanceCapacity'],
  [/do(?: not|n't) have sufficient .* capacity/i, 'InsufficientInstanceCapacity'],
  [/(?:less than|below) (?:the )?Spot (?:market )?price/i, 'SpotMaxPriceTooLow'],
];

const AZ_PATTERN = /\b([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d+[a-z])\b/;
const TYPE_PATTERN =
  /\b([a-z][a-z0-9-]*\d[a-z0-9-]*\.(?:nano|micro|small|medium|large|\d*xlarge|metal(?:-\d+xl)?))\b/;

/** The capacity code a text reports, if it reports one. */
export function capacityCodeOf(text: string): string | undefined {
  for (const [pattern, code] of CODE_PATTERNS) if (pattern.test(text)) return code;
  return undefined;
}

/** The instance type and AZ a text names (a fleet type it mentions first, else anything shaped like one). */
export function poolHintOf(
  text: string,
  knownTypes: Iterable<string> = [],
): { instanceType?: string; availabilityZone?: string } {
  const out: { instanceType?: string; availabilityZone?: string } = {};
  for (const type of knownTypes) {
    if (new RegExp(`(^|[^\\w.-])${type.replaceAll('.', '\\.')}($|[^\\w.-])`).test(text)) {
      out.instanceType = type;
      break;
    }
  }
  out.instanceType ??= TYPE_PATTERN.exec(text)?.[1];
  if (out.instanceType === undefined) delete out.instanceType;
  const az = AZ_PATTERN.exec(text)?.[1];
  if (az !== undefined) out.availabilityZone = az;
  return out;
}

/** History event types that are about instances launched or terminated, never about a pool's capacity. */
const INSTANCE_EVENT_TYPES = new Set(['instanceChange', 'instance-change']);

/**
 * One Spot Fleet history record (event types `error`, `information`, `fleetRequestChange`, `instanceChange`) or EC2
 * Fleet history record (`service-error`, `fleet-change`, `instance-change`) as a capacity error, or undefined when it
 * is about something else: it must carry a capacity code in its description or a launch-specification sub-type.
 */
export function capacityErrorOfFleetEvent(
  record: {
    EventType?: string | undefined;
    Timestamp?: Date | undefined;
    EventInformation?: EventInformation;
  },
  source: string,
  knownTypes: Iterable<string>,
): PoolCapacityError | undefined {
  if (record.EventType === undefined || INSTANCE_EVENT_TYPES.has(record.EventType)) return undefined;
  const subType = record.EventInformation?.EventSubType ?? '';
  const description = record.EventInformation?.EventDescription ?? '';
  const code = capacityCodeOf(description) ?? (POOL_EVENT_SUBTYPES.has(subType) ? subType : undefined);
  if (code === undefined) return undefined;
  return {
    ...poolHintOf(description, knownTypes),
    atMs: record.Timestamp?.getTime() ?? 0,
    code,
    message: `${source} ${record.EventType}/${subType}: ${description}`,
  };
}
