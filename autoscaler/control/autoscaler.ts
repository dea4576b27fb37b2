import {
  capacityModelOf,
  emptyLearnerState,
  type LearnerState,
  learn,
  mergeCapacityModels,
} from '../learn/capacity-learner.js';
import { plan } from '../plan/plan.js';
import {
  type CapacityModel,
  emptyPlannerMemory,
  type LoadForecast,
  type PlanDecision,
  type PlannerMemory,
} from '../plan/plan-types.js';
import type { AutoscalerPolicy } from '../policy/policy-schema.js';
import type { Clock } from '../ports/clock.js';
import type { DecisionLog } from '../ports/decision-log.js';
import { isInsufficientCapacity, isRetryable } from '../ports/errors.js';
import {
  DRAINING_TAG,
  type FleetProvider,
  type FleetSnapshot,
  type InstanceId,
  poolIdOf,
} from '../ports/fleet-provider.js';
import type { ForecastSource } from '../ports/forecast-source.js';
import type { InterruptionNotice, InterruptionSource } from '../ports/interruption-source.js';
import type { MetricsSnapshot, MetricsSource } from '../ports/metrics-source.js';
import type { WorkerControl } from '../ports/worker-control.js';
import { type AutoscalerGauges, noopAutoscalerGauges } from './autoscaler-gauges.js';
import { DrainTracker } from './drain-tracker.js';
import { withoutActionMemory, withoutPool } from './replan.js';

/** What the loop is wired with (adapters come from infra/, fakes from tests, the simulator's own). */
export interface AutoscalerDeps {
  fleet: FleetProvider;
  metrics: MetricsSource;
  interruptions: InterruptionSource;
  workers: WorkerControl;
  decisionLog: DecisionLog;
  clock: Clock;
  policy: AutoscalerPolicy;
  forecasts?: ForecastSource;
  /** Configured per-type throughput; learned values override it. */
  baseModel?: CapacityModel;
  gauges?: AutoscalerGauges;
}

/** How many times a throttled fleet call is retried within one tick. */
const THROTTLE_RETRIES = 3;

/**
 * The control loop: observe → learn → plan → act → record. `tick()` runs one round (tests and the simulator drive
 * it with a fake clock); `run(signal)` repeats it every `policy.intervalMs`. With `policy.dryRun` it decides and
 * records but never mutates the fleet. Restart-safe: drains in progress are recovered from instance tags.
 */
export class Autoscaler {
  readonly #deps: AutoscalerDeps;
  readonly #drains: DrainTracker;
  readonly #gauges: AutoscalerGauges;
  #memory: PlannerMemory = emptyPlannerMemory();
  #learner: LearnerState = emptyLearnerState();
  /** Notices still relevant (their instance is in the fleet), by instance id. */
  readonly #notices = new Map<InstanceId, InterruptionNotice>();
  #started = false;

  constructor(deps: AutoscalerDeps) {
    this.#deps = deps;
    this.#gauges = deps.gauges ?? noopAutoscalerGauges;
    this.#drains = new DrainTracker(deps.fleet, deps.workers, deps.decisionLog, deps.policy, (reason) =>
      this.#gauges.drainFailed(reason),
    );
  }

  get dryRun(): boolean {
    return this.#deps.policy.dryRun;
  }

  /** Drains in progress. */
  get pendingDrains(): number {
    return this.#drains.size;
  }

  /** One round. Resolves the decision, or undefined when the fleet could not be observed. */
  async tick(): Promise<PlanDecision | undefined> {
    const { clock, decisionLog: log, policy } = this.#deps;
    const now = clock.now();
    if (!this.#started) {
      this.#started = true;
      await log.append({ kind: 'start', atMs: now, dryRun: policy.dryRun, policy });
    }
    const fleet = await this.#retrying('describe', () => this.#deps.fleet.describe()).catch(async (error) => {
      await log.append({ kind: 'observe-failed', atMs: now, what: 'fleet', error: messageOf(error) });
      return undefined;
    });
    if (fleet === undefined) return undefined;
    const [metrics, forecast, notices] = await Promise.all([
      this.#observe<MetricsSnapshot | undefined>(
        'metrics',
        now,
        () => this.#deps.metrics.observe(policy.metricsWindowMs),
        undefined,
      ),
      this.#observe<LoadForecast | undefined>(
        'forecast',
        now,
        async () => this.#deps.forecasts?.forecast(now),
        undefined,
      ),
      this.#observe<InterruptionNotice[]>('interruptions', now, () => this.#deps.interruptions.poll(), []),
    ]);
    const liveIds = new Set(
      fleet.instances
        .filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down')
        .map((i) => i.instanceId),
    );
    for (const n of notices) if (liveIds.has(n.instanceId)) this.#notices.set(n.instanceId, n);
    for (const id of [...this.#notices.keys()]) if (!liveIds.has(id)) this.#notices.delete(id);

    this.#learner = learn(this.#learner, metrics, fleet);
    const learned = capacityModelOf(this.#learner);
    const model = this.#deps.baseModel ? mergeCapacityModels(this.#deps.baseModel, learned) : learned;
    const interruptions = [...this.#notices.values()];
    let decision = plan({
      now,
      fleet,
      metrics,
      forecast,
      model,
      policy,
      memory: this.#memory,
      interruptions,
    });
    await log.append({
      kind: 'decision',
      atMs: now,
      dryRun: policy.dryRun,
      input: { fleet, metrics: metrics ?? null, forecast: forecast ?? null, model, interruptions },
      decision,
    });

    if (!policy.dryRun) {
      await this.#drains.recover(fleet.instances, now);
      decision = await this.#act(decision, fleet, now);
      if (notices.length > 0) await this.#deps.interruptions.acknowledge(notices).catch(() => undefined);
      await this.#requestOverdueCheckpoints(metrics, now);
    }
    // In dry-run nothing was done: keep what was observed (loads, losses) but not the effects of the actions, so
    // the next decision is made against the fleet as it really is (no cooldown, no kept-capacity floor from them).
    this.#memory = policy.dryRun ? withoutActionMemory(decision.memory, this.#memory) : decision.memory;
    this.#gauges.desiredUnits(decision.desiredUnits);
    this.#gauges.actualUnits(decision.inputs.readyUnits);
    if (decision.inputs.projectedUtilization !== undefined)
      this.#gauges.utilization(decision.inputs.projectedUtilization);
    if (decision.inputs.plannedRecordsPerSecond !== undefined) {
      this.#gauges.forecastRecordsPerSecond(decision.inputs.plannedRecordsPerSecond);
    }
    this.#gauges.pendingDrains(this.#drains.size);
    return decision;
  }

  /** Ticks every `policy.intervalMs` until `signal` aborts; a failing tick is logged and the loop goes on. */
  async run(signal: AbortSignal): Promise<void> {
    const { clock, decisionLog: log, policy } = this.#deps;
    while (!signal.aborted) {
      try {
        await this.tick();
      } catch (error) {
        await log
          .append({ kind: 'tick-failed', atMs: clock.now(), error: messageOf(error) })
          .catch(() => undefined);
      }
      await clock.sleep(policy.intervalMs, signal);
    }
  }

  /** Resolves when drain calls in flight have settled (tests; drains survive a stop through their tags). */
  settled(): Promise<void> {
    return this.#drains.settled();
  }

  async #act(decision: PlanDecision, fleet: FleetSnapshot, now: number): Promise<PlanDecision> {
    const byId = new Map(fleet.instances.map((i) => [i.instanceId, i]));
    // An instance about to be interrupted (or recommended for rebalance) drains now, if it is not draining already.
    for (const n of this.#notices.values()) {
      const inst = byId.get(n.instanceId);
      if (inst === undefined || this.#drains.has(n.instanceId) || inst.tags[DRAINING_TAG] !== undefined)
        continue;
      await this.#safely('drain-start', now, () =>
        this.#drains.start(inst, n.kind === 'rebalance' ? 'rebalance' : 'interruption', now, n.deadlineMs),
      );
    }
    if (decision.desiredUnits > fleet.targetUnits) decision = await this.#scaleOut(decision, fleet, now);
    for (const id of decision.drain) {
      const inst = byId.get(id);
      if (inst !== undefined)
        await this.#safely('drain-start', now, () => this.#drains.start(inst, 'scale-in', now));
    }
    const liveIds = new Set(fleet.instances.filter((i) => i.state !== 'terminated').map((i) => i.instanceId));
    await this.#drains.advance(now, liveIds);
    return decision;
  }

  /** Raises the target; a pool without spot capacity is avoided and the plan redone over the other pools. */
  async #scaleOut(decision: PlanDecision, fleet: FleetSnapshot, now: number): Promise<PlanDecision> {
    const { policy, decisionLog: log } = this.#deps;
    for (let attempt = 0; attempt <= policy.pools.length; attempt++) {
      try {
        const request = {
          totalUnits: decision.desiredUnits,
          ...(decision.perPool ? { perPool: decision.perPool } : {}),
        };
        await this.#retrying('setTargetCapacity', () => this.#deps.fleet.setTargetCapacity(request));
        await log.append({ kind: 'set-target', atMs: now, ...request, previousUnits: fleet.targetUnits });
        return decision;
      } catch (error) {
        const pool = (error as { pool?: string }).pool;
        if (!isInsufficientCapacity(error) || pool === undefined) {
          await log.append({
            kind: 'set-target-failed',
            atMs: now,
            retryable: isRetryable(error),
            error: messageOf(error),
          });
          return decision;
        }
        await log.append({
          kind: 'insufficient-capacity',
          atMs: now,
          pool,
          error: messageOf(error),
          action: 'replanning over the other pools',
        });
        const memory = {
          ...decision.memory,
          poolUnavailableUntilMs: {
            ...decision.memory.poolUnavailableUntilMs,
            [pool]: now + policy.poolBackoffMs,
          },
        };
        const held = fleet.instances
          .filter((i) => poolIdOf(i) === pool)
          .reduce((a, i) => a + i.weightUnits, 0);
        decision = {
          ...decision,
          memory,
          perPool: withoutPool(decision, pool, held, policy, memory.poolUnavailableUntilMs, now),
        };
      }
    }
    return decision;
  }

  /** Asks workers whose last checkpoint is older than the notice budget allows to checkpoint now. */
  async #requestOverdueCheckpoints(metrics: MetricsSnapshot | undefined, now: number): Promise<void> {
    for (const w of metrics?.workers ?? []) {
      if (w.checkpointAgeMs === undefined || w.checkpointAgeMs <= this.#deps.policy.checkpointNoticeBudgetMs)
        continue;
      if (this.#drains.has(w.instanceId)) continue;
      await this.#safely('checkpoint', now, async () => {
        const r = await this.#deps.workers.checkpoint(w.instanceId);
        await this.#deps.decisionLog.append({
          kind: 'checkpoint-requested',
          atMs: now,
          instanceId: w.instanceId,
          checkpointAgeMs: w.checkpointAgeMs,
          ...r,
        });
      });
    }
  }

  async #observe<T>(what: string, now: number, read: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await this.#retrying(what, read);
    } catch (error) {
      await this.#deps.decisionLog.append({
        kind: 'observe-failed',
        atMs: now,
        what,
        error: messageOf(error),
      });
      return fallback;
    }
  }

  async #retrying<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (!isRetryable(error) || attempt >= THROTTLE_RETRIES) throw error;
        const wait = (error as { retryAfterMs?: number }).retryAfterMs ?? 200 * 2 ** attempt;
        await this.#deps.decisionLog.append({
          kind: 'retrying',
          atMs: this.#deps.clock.now(),
          what,
          attempt: attempt + 1,
          waitMs: wait,
          error: messageOf(error),
        });
        await this.#deps.clock.sleep(wait);
      }
    }
  }

  async #safely(what: string, now: number, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      await this.#deps.decisionLog.append({
        kind: `${what}-failed`,
        atMs: now,
        retryable: isRetryable(error),
        error: messageOf(error),
      });
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
