import type { AutoscalerPolicy } from '../policy/policy-schema.js';
import type { DecisionLog } from '../ports/decision-log.js';
import { isNotFound, isRetryable } from '../ports/errors.js';
import {
  DRAIN_ATTEMPTS_TAG,
  DRAIN_REASON_TAG,
  DRAINING_TAG,
  type FleetInstance,
  type FleetProvider,
  type InstanceId,
} from '../ports/fleet-provider.js';
import type { DrainResult, WorkerControl } from '../ports/worker-control.js';

export type DrainReason = 'scale-in' | 'interruption' | 'rebalance';

interface PendingDrain {
  instanceId: InstanceId;
  reason: DrainReason;
  startedAtMs: number;
  attempts: number;
  attemptStartedAtMs: number;
  timeoutMs: number;
  /** `watching`: recovered after a restart; the worker's status says how its drain goes. */
  state: 'running' | 'watching' | 'completed' | 'failed';
  generation: number;
  result?: DrainResult;
  error?: unknown;
}

/**
 * Checkpoint-then-drain, then terminate with decrement, for each victim. The drain runs in the background; each
 * `advance` (once per loop tick) finishes drains that completed, retries those that timed out or failed (up to
 * `drainRetries`), then forces them (terminate anyway) with the reason logged. The `liveagg:draining` tag is the
 * durable record: after a restart `recover` picks drains up again from the tags, without draining twice.
 */
export class DrainTracker {
  readonly #pending = new Map<InstanceId, PendingDrain>();
  readonly #inflight = new Set<Promise<void>>();
  /**
   * Instances this tracker terminated, while the fleet still lists them: a provider's listing may
   * show a terminated instance (still tagged as draining) for a while, and it is not a drain to recover.
   */
  readonly #terminated = new Set<InstanceId>();

  constructor(
    private readonly fleet: FleetProvider,
    private readonly workers: WorkerControl,
    private readonly log: DecisionLog,
    private readonly policy: AutoscalerPolicy,
    /** Called once per drain that is given up on (the worker is terminated without a confirmed drain). */
    private readonly onForced: (reason: DrainReason) => void = () => {},
  ) {}

  has(id: InstanceId): boolean {
    return this.#pending.has(id);
  }

  get size(): number {
    return this.#pending.size;
  }

  /**
   * Terminates, with the target decremented, every instance whose worker has already answered that it is drained.
   * The loop calls it before planning, so the plan never sees a drained victim shutting down while the target
   * still counts it (it would take that unit for capacity lost to an interruption and replace it). True when any
   * instance was terminated (the fleet should be observed again).
   */
  async settleCompleted(now: number): Promise<boolean> {
    let any = false;
    for (const p of [...this.#pending.values()]) {
      if (p.state !== 'completed') continue;
      await this.#terminate(p, now, 'drained');
      any = true;
    }
    return any;
  }

  /** Tags the instance as draining (the durable record), then starts its drain. */
  async start(instance: FleetInstance, reason: DrainReason, now: number, deadlineMs?: number): Promise<void> {
    if (this.#pending.has(instance.instanceId)) return;
    const timeoutMs = Math.max(
      1,
      Math.min(this.policy.drainTimeoutMs, (deadlineMs ?? Number.POSITIVE_INFINITY) - now),
    );
    await this.fleet.tagInstance(instance.instanceId, {
      [DRAINING_TAG]: String(now),
      [DRAIN_REASON_TAG]: reason,
      [DRAIN_ATTEMPTS_TAG]: '0',
    });
    const p: PendingDrain = {
      instanceId: instance.instanceId,
      reason,
      startedAtMs: now,
      attempts: 0,
      attemptStartedAtMs: now,
      timeoutMs,
      state: 'running',
      generation: 0,
    };
    this.#pending.set(p.instanceId, p);
    await this.log.append({ kind: 'drain-started', atMs: now, instanceId: p.instanceId, reason, timeoutMs });
    await this.#attempt(p, now);
  }

  /**
   * Picks up drains recorded in tags (after a restart) that this tracker does not know, on
   * instances that are not going away (shutting down, terminated, or terminated by this tracker).
   */
  async recover(instances: readonly FleetInstance[], now: number): Promise<void> {
    const listed = new Set(instances.map((i) => i.instanceId));
    for (const id of [...this.#terminated]) if (!listed.has(id)) this.#terminated.delete(id);
    for (const i of instances) {
      const started = i.tags[DRAINING_TAG];
      if (started === undefined || this.#pending.has(i.instanceId) || this.#terminated.has(i.instanceId))
        continue;
      if (i.state === 'shutting-down' || i.state === 'terminated') continue;
      const reason = (i.tags[DRAIN_REASON_TAG] ?? 'scale-in') as DrainReason;
      const attempts = Number(i.tags[DRAIN_ATTEMPTS_TAG] ?? '1') || 1;
      const startedAtMs = Number(started) || now;
      this.#pending.set(i.instanceId, {
        instanceId: i.instanceId,
        reason,
        startedAtMs,
        attempts,
        attemptStartedAtMs: startedAtMs,
        timeoutMs: this.policy.drainTimeoutMs,
        state: 'watching',
        generation: 0,
      });
      await this.log.append({
        kind: 'drain-recovered',
        atMs: now,
        instanceId: i.instanceId,
        reason,
        attempts,
        startedAtMs,
      });
    }
  }

  /** Moves every pending drain forward; `live` = instances still in the fleet. */
  async advance(now: number, live: ReadonlySet<InstanceId>): Promise<void> {
    for (const p of [...this.#pending.values()]) {
      if (!live.has(p.instanceId)) {
        this.#pending.delete(p.instanceId);
        await this.log.append({
          kind: 'drain-instance-gone',
          atMs: now,
          instanceId: p.instanceId,
          reason: p.reason,
        });
        continue;
      }
      if (p.state === 'watching') {
        const status = await this.workers
          .status(p.instanceId)
          .catch(() => ({ state: 'unreachable' as const }));
        if (status.state === 'drained') {
          p.state = 'completed';
        } else if (status.state !== 'draining' && status.state !== 'unreachable') {
          // The worker is not draining (it restarted, or the drain never reached it): drain it now.
          await this.#attempt(p, now);
          continue;
        }
      }
      if (p.state === 'completed') {
        await this.#terminate(p, now, 'drained');
      } else if (p.state === 'failed') {
        if (isNotFound(p.error)) {
          this.#pending.delete(p.instanceId);
          await this.log.append({
            kind: 'drain-instance-gone',
            atMs: now,
            instanceId: p.instanceId,
            reason: p.reason,
          });
        } else {
          await this.#retryOrForce(p, now, messageOf(p.error));
        }
      } else if (now - p.attemptStartedAtMs >= p.timeoutMs) {
        await this.#retryOrForce(p, now, `no drain confirmation within ${p.timeoutMs} ms`);
      }
    }
  }

  /** Resolves when every drain call in flight has settled (tests and shutdown). */
  async settled(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  async #attempt(p: PendingDrain, now: number): Promise<void> {
    p.attempts += 1;
    p.attemptStartedAtMs = now;
    p.state = 'running';
    p.generation += 1;
    const generation = p.generation;
    await this.fleet
      .tagInstance(p.instanceId, { [DRAIN_ATTEMPTS_TAG]: String(p.attempts) })
      .catch(() => undefined);
    const call = this.workers.drain(p.instanceId, { timeoutMs: p.timeoutMs, reason: p.reason }).then(
      (result) => {
        if (p.generation !== generation) return;
        p.state = 'completed';
        p.result = result;
      },
      (error: unknown) => {
        if (p.generation !== generation) return;
        p.state = 'failed';
        p.error = error;
      },
    );
    this.#inflight.add(call);
    void call.finally(() => this.#inflight.delete(call));
  }

  async #retryOrForce(p: PendingDrain, now: number, why: string): Promise<void> {
    if (p.attempts <= this.policy.drainRetries) {
      await this.log.append({
        kind: 'drain-retry',
        atMs: now,
        instanceId: p.instanceId,
        attempt: p.attempts + 1,
        why,
      });
      await this.#attempt(p, now);
      return;
    }
    p.generation += 1; // ignore a late answer of the abandoned attempt
    this.onForced(p.reason);
    await this.log.append({
      kind: 'drain-forced',
      atMs: now,
      instanceId: p.instanceId,
      reason: p.reason,
      attempts: p.attempts,
      why: `${why}; terminating after ${p.attempts} attempt(s): its partitions restore from their last checkpoints and replay`,
    });
    await this.#terminate(p, now, 'forced');
  }

  async #terminate(p: PendingDrain, now: number, how: 'drained' | 'forced'): Promise<void> {
    try {
      await this.fleet.terminateInstance(p.instanceId, { decrementCapacity: true });
    } catch (error) {
      if (!isNotFound(error)) {
        p.state = how === 'drained' ? 'completed' : p.state;
        await this.log.append({
          kind: 'terminate-failed',
          atMs: now,
          instanceId: p.instanceId,
          retryable: isRetryable(error),
          error: messageOf(error),
        });
        if (how === 'forced') p.state = 'completed'; // retry the termination next tick, not the drain
        return;
      }
    }
    this.#pending.delete(p.instanceId);
    this.#terminated.add(p.instanceId);
    await this.log.append({
      kind: 'terminated',
      atMs: now,
      instanceId: p.instanceId,
      reason: p.reason,
      how,
      checkpointIds: p.result?.checkpointIds ?? [],
      drainSeconds: p.result?.seconds ?? (now - p.startedAtMs) / 1000,
    });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
