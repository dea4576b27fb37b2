import type { InstanceId } from './fleet-provider.js';

/** What a completed drain left behind. */
export interface DrainResult {
  instanceId: InstanceId;
  /** Checkpoints written for the partitions the worker owned (their next owners restore from them). */
  checkpointIds: string[];
  /** Time the drain took, seconds. */
  seconds: number;
}

/** A worker's state as its admin API reports it. */
export interface WorkerStatus {
  instanceId: InstanceId;
  state: 'starting' | 'restoring' | 'ready' | 'draining' | 'drained' | 'unreachable';
  ownedPartitions: number;
  stateBytes?: number;
  checkpointAgeMs?: number;
}

/** The workers' admin API (checkpoint-then-drain). */
export interface WorkerControl {
  /**
   * Checkpoint-then-drain: stop fetching, finish in-flight work, checkpoint every owned partition, commit, leave the
   * group. Idempotent: draining a worker that is already draining joins that drain. Rejects with DrainTimeoutError
   * after `timeoutMs`, InstanceNotFoundError if the worker is gone.
   */
  drain(instanceId: InstanceId, options: { timeoutMs: number; reason: string }): Promise<DrainResult>;
  /** Writes a checkpoint of every owned partition now and returns their ids. */
  checkpoint(instanceId: InstanceId): Promise<{ checkpointIds: string[]; seconds: number }>;
  /** The worker's current state; `unreachable` instead of throwing when it does not answer. */
  status(instanceId: InstanceId): Promise<WorkerStatus>;
}
