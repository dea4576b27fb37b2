/** An EC2 instance id (or a simulated / local-process id). */
export type InstanceId = string;

/** Where an instance's capacity comes from: one instance type in one availability zone. */
export interface PoolKey {
  instanceType: string;
  availabilityZone: string;
}

/** `instanceType@availabilityZone`, the key used for per-pool maps. */
export type PoolId = string;

/** The stable key of a pool in maps and logs. */
export function poolIdOf(pool: PoolKey): PoolId {
  return `${pool.instanceType}@${pool.availabilityZone}`;
}

/** Splits a {@link PoolId} back into its parts. */
export function parsePoolId(id: PoolId): PoolKey {
  const at = id.lastIndexOf('@');
  return at < 0
    ? { instanceType: id, availabilityZone: '' }
    : { instanceType: id.slice(0, at), availabilityZone: id.slice(at + 1) };
}

/**
 * Lifecycle of an instance as the autoscaler sees it: `pending` (launched, booting), `running` (booted, worker not
 * yet ready), `ready` (worker joined and restored: counts as capacity), `shutting-down`, `terminated`.
 */
export type InstanceState = 'pending' | 'running' | 'ready' | 'shutting-down' | 'terminated';

/** Tag marking a worker the autoscaler is draining; its value is the drain start time (epoch ms). */
export const DRAINING_TAG = 'liveagg:draining';
/** Tag recording why a worker is draining (`scale-in`, `interruption`, `rebalance`). */
export const DRAIN_REASON_TAG = 'liveagg:drain-reason';
/** Tag recording how many drain attempts have been made (restart-safe retry counting). */
export const DRAIN_ATTEMPTS_TAG = 'liveagg:drain-attempts';

/** One instance of the fleet. */
export interface FleetInstance {
  instanceId: InstanceId;
  instanceType: string;
  availabilityZone: string;
  market: 'spot' | 'on-demand';
  state: InstanceState;
  launchTimeMs: number;
  /** When the worker reported ready (joined the group, state restored), if it has. */
  readyTimeMs?: number;
  /** Capacity this instance counts for, in weighted units (the fleet's weight for its type). */
  weightUnits: number;
  /** Instance tags (including {@link DRAINING_TAG} while draining). */
  tags: Readonly<Record<string, string>>;
}

/** The fleet at one moment. */
export interface FleetSnapshot {
  observedAtMs: number;
  /** The fleet's current target capacity in weighted units (what was last requested). */
  targetUnits: number;
  /** Per-pool targets when the fleet is steered per pool (EC2 Fleet / simulator); absent otherwise. */
  perPoolTargetUnits?: Readonly<Record<PoolId, number>>;
  instances: readonly FleetInstance[];
}

/** A capacity request: a total, optionally split per pool. */
export interface CapacityRequest {
  totalUnits: number;
  /** Units per pool; their sum equals `totalUnits`. Providers that cannot steer per pool use only the total. */
  perPool?: Readonly<Record<PoolId, number>>;
}

/**
 * A pool that could not give the fleet capacity, reported after the request was accepted: fleets that launch
 * asynchronously (Spot Fleet, EC2 Fleet, Auto Scaling groups) accept a raised target and record the shortage later in
 * their history, errors or scaling activities instead of failing the call. The instance type or the AZ is absent when
 * the report does not say (an Auto Scaling activity names only the AZ of a failed spot launch, for example).
 */
export interface PoolCapacityError {
  instanceType?: string;
  availabilityZone?: string;
  /** When the fleet recorded it, epoch ms. */
  atMs: number;
  /** What the fleet reported: `InsufficientInstanceCapacity`, `SpotMaxPriceTooLow`, `launchSpecUnusable`, … */
  code: string;
  /** The fleet's own words, and where they came from (e.g. `Spot Fleet history: …`). */
  message: string;
}

/**
 * The spot fleet being resized (Auto Scaling group with a mixed-instances policy, Spot Fleet, EC2 Fleet,
 * local processes, simulator). Errors are the domain errors of `./errors.ts`.
 */
export interface FleetProvider {
  /** Lists the fleet's instances (all states except long-gone ones) and its current target capacity. */
  describe(): Promise<FleetSnapshot>;
  /**
   * Sets the fleet's target capacity in weighted units. Used to scale OUT only: lowering a target lets the
   * provider pick victims without draining, so scale-in goes through {@link terminateInstance}.
   * Throws InsufficientSpotCapacityError (with the pool) when a requested pool has no capacity.
   */
  setTargetCapacity(request: CapacityRequest): Promise<void>;
  /**
   * Terminates one instance; with `decrementCapacity` the target drops by its weight so it is not replaced.
   * Throws InstanceNotFoundError if it is already gone.
   */
  terminateInstance(instanceId: InstanceId, options: { decrementCapacity: boolean }): Promise<void>;
  /** Adds or overwrites tags on an instance (e.g. {@link DRAINING_TAG}). */
  tagInstance(instanceId: InstanceId, tags: Readonly<Record<string, string>>): Promise<void>;
  /** Removes tags by key; missing keys are ignored. */
  untagInstance(instanceId: InstanceId, keys: readonly string[]): Promise<void>;
  /**
   * Pool-level capacity shortages the fleet recorded at or after `sinceMs` (oldest first); the same report may be
   * returned again by a later call, so consumers de-duplicate. Optional: fleets whose requests fail synchronously
   * (with InsufficientSpotCapacityError) need not implement it.
   */
  capacityErrors?(sinceMs: number): Promise<PoolCapacityError[]>;
}

/** The policy pools a capacity report points at: every pool matching the type and AZ it names (none if it names neither). */
export function poolsOfCapacityError(
  error: Pick<PoolCapacityError, 'instanceType' | 'availabilityZone'>,
  pools: readonly PoolKey[],
): PoolId[] {
  const { instanceType, availabilityZone } = error;
  if (instanceType === undefined && availabilityZone === undefined) return [];
  if (instanceType !== undefined && availabilityZone !== undefined)
    return [poolIdOf({ instanceType, availabilityZone })];
  return pools
    .filter(
      (p) =>
        (error.instanceType === undefined || p.instanceType === error.instanceType) &&
        (error.availabilityZone === undefined || p.availabilityZone === error.availabilityZone),
    )
    .map(poolIdOf);
}
