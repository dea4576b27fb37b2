import type { InstanceId } from './fleet-provider.js';

/** `interruption` = EC2 Spot Instance Interruption Warning (2 min); `rebalance` = Rebalance Recommendation. */
export type InterruptionKind = 'interruption' | 'rebalance';

/** One warning about one instance. */
export interface InterruptionNotice {
  instanceId: InstanceId;
  kind: InterruptionKind;
  /** When the instance goes away (interruptions), epoch ms; absent for rebalance recommendations. */
  deadlineMs?: number;
  /** When the warning was issued, epoch ms. */
  issuedAtMs: number;
  /** Pool of the instance when the source knows it. */
  instanceType?: string;
  availabilityZone?: string;
}

/** Where interruption warnings arrive (EventBridge → SQS, instance metadata, simulator). */
export interface InterruptionSource {
  /**
   * Returns the notices received since the last call (possibly none), without blocking long.
   * A notice may be delivered more than once; consumers must be idempotent per (instanceId, kind).
   */
  poll(): Promise<InterruptionNotice[]>;
  /** Confirms the notices were handled so the source stops redelivering them (SQS delete); no-op elsewhere. */
  acknowledge(notices: readonly InterruptionNotice[]): Promise<void>;
}
