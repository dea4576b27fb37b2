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
  type PoolCapacityError,
  type PoolId,
  poolIdOf,
  poolsOfCapacityError,
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
/** Fleets record capacity shortages late (Spot Fleet history: up to 30 s): each read looks back this far again. */
const CAPACITY_REPORT_LOOKBACK_MS = 120_000;

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
  /** Capacity reports already handled (they are read again within the look-back), by key → report time. */
  readonly #capacityReportsSeen = new Map<string, number>();
  #capacityReportsSinceMs: number | undefined;
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
    const describe = () =>
      this.#retrying('describe', () => this.#deps.fleet.describe()).catch(async (error) => {
        await log.append({ kind: 'observe-failed', atMs: now, what: 'fleet', error: messageOf(error) });
        return undefined;
      });
    let fleet = await describe();
    if (fleet === undefined) return undefined;
    // Drains confirmed since the last tick are finished first (terminate with decrement), then the fleet is seen
    // again: planning against a target that still counts a drained, exiting victim reads as capacity lost to an
    // interruption, and the loop would launch a replacement right after scaling in.
    if (!policy.dryRun && (await this.#drains.settleCompleted(now))) {
      fleet = (await describe()) ?? fleet;
    }
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
    const capacityErrors = await this.#observe<PoolCapacityError[]>(
      'capacity-errors',
      now,
      () => this.#newCapacityErrors(now),
      [],
    );
    const avoided = await this.#avoidPools(capacityErrors, now);
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
      input: {
        fleet,
        metrics: metrics ?? null,
        forecast: forecast ?? null,
        model,
        interruptions,
        ...(capacityErrors.length > 0 ? { capacityErrors } : {}),
      },
      decision,
    });

    if (!policy.dryRun) {
      await this.#drains.recover(fleet.instances, now);
      decision = await this.#act(decision, fleet, now, avoided);
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

  /** Capacity errors the fleet reported since the last read that were not handled yet (none if it reports none). */
  async #newCapacityErrors(now: number): Promise<PoolCapacityError[]> {
    const { fleet, policy } = this.#deps;
    if (fleet.capacityErrors === undefined) return [];
    const since = Math.min(
      this.#capacityReportsSinceMs ?? now - policy.poolBackoffMs,
      now - CAPACITY_REPORT_LOOKBACK_MS,
    );
    const reports = await fleet.capacityErrors(since);
    this.#capacityReportsSinceMs = now - CAPACITY_REPORT_LOOKBACK_MS;
    for (const [key, at] of this.#capacityReportsSeen) if (at < since) this.#capacityReportsSeen.delete(key);
    const fresh: PoolCapacityError[] = [];
    for (const r of reports) {
      const key = `${r.atMs}|${r.instanceType ?? ''}@${r.availabilityZone ?? ''}|${r.code}|${r.message}`;
      if (this.#capacityReportsSeen.has(key)) continue;
      this.#capacityReportsSeen.set(key, r.atMs);
      fresh.push(r);
    }
    return fresh;
  }

  /**
   * Marks the pools of newly reported (asynchronous) capacity shortages unavailable for `poolBackoffMs` from the
   * report, as a synchronous InsufficientSpotCapacityError does, so the plan puts new capacity elsewhere; logs each.
   * Returns the pools now avoided because of them.
   */
  async #avoidPools(errors: readonly PoolCapacityError[], now: number): Promise<PoolId[]> {
    const { policy, decisionLog: log } = this.#deps;
    const avoided = new Set<PoolId>();
    for (const e of errors) {
      const pools = poolsOfCapacityError(e, policy.pools);
      const until = e.atMs + policy.poolBackoffMs;
      const unavailable = { ...this.#memory.poolUnavailableUntilMs };
      if (until > now)
        for (const p of pools) {
          unavailable[p] = Math.max(unavailable[p] ?? 0, until);
          avoided.add(p);
        }
      this.#memory = { ...this.#memory, poolUnavailableUntilMs: unavailable };
      await log.append({
        kind: 'insufficient-capacity',
        atMs: now,
        source: 'fleet-report',
        pools,
        ...(pools.length === 1 ? { pool: pools[0] } : {}),
        code: e.code,
        reportedAtMs: e.atMs,
        error: e.message,
        action:
          pools.length === 0
            ? 'the report names no instance type or AZ: no pool to avoid'
            : until <= now
              ? `reported more than poolBackoffMs (${policy.poolBackoffMs} ms) ago: not avoiding ${pools.join(', ')}`
              : `avoiding ${pools.join(', ')} until ${new Date(until).toISOString()}; new capacity goes to the other pools`,
      });
    }
    return [...avoided];
  }

  /**
   * The decision's per-pool split with the units it puts in `pools` beyond what their live instances hold moved to the
   * other open pools (a fleet that reports per-pool targets keeps asking a pool for what it could not launch).
   */
  #routeAround(
    decision: PlanDecision,
    fleet: FleetSnapshot,
    pools: readonly PoolId[],
    now: number,
  ): PlanDecision {
    let perPool = decision.perPool;
    if (perPool === undefined) return decision;
    for (const pool of pools) {
      const held = fleet.instances
        .filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down' && poolIdOf(i) === pool)
        .reduce((a, i) => a + i.weightUnits, 0);
      if ((perPool[pool] ?? 0) <= held) continue;
      perPool =
        withoutPool(
          { ...decision, perPool },
          pool,
          held,
          this.#deps.policy,
          decision.memory.poolUnavailableUntilMs,
          now,
        ) ?? perPool;
    }
    return { ...decision, perPool };
  }

  async #act(
    decision: PlanDecision,
    fleet: FleetSnapshot,
    now: number,
    avoided: readonly PoolId[] = [],
  ): Promise<PlanDecision> {
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
    if (avoided.length > 0) decision = this.#routeAround(decision, fleet, avoided, now);
    if (decision.desiredUnits > fleet.targetUnits) decision = await this.#scaleOut(decision, fleet, now);
    else if (
      avoided.length > 0 &&
      decision.drain.length === 0 &&
      decision.desiredUnits === fleet.targetUnits &&
      fleet.perPoolTargetUnits !== undefined &&
      decision.perPool !== undefined &&
      !samePerPool(decision.perPool, fleet.perPoolTargetUnits)
    ) {
      // The fleet steers per pool and still asks the short pools for units: ask the other pools instead, now.
      decision = await this.#scaleOut(decision, fleet, now, 'reroute');
    }
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
  async #scaleOut(
    decision: PlanDecision,
    fleet: FleetSnapshot,
    now: number,
    why: 'scale-out' | 'reroute' = 'scale-out',
  ): Promise<PlanDecision> {
    const { policy, decisionLog: log } = this.#deps;
    for (let attempt = 0; attempt <= policy.pools.length; attempt++) {
      try {
        const request = {
          totalUnits: decision.desiredUnits,
          ...(decision.perPool ? { perPool: decision.perPool } : {}),
        };
        await this.#retrying('setTargetCapacity', () => this.#deps.fleet.setTargetCapacity(request));
        await log.append({
          kind: 'set-target',
          atMs: now,
          ...request,
          previousUnits: fleet.targetUnits,
          ...(why === 'reroute'
            ? {
                why: 'reroute',
                previousPerPool: fleet.perPoolTargetUnits ?? null,
                reason: 'the fleet reported pools without capacity: their units asked of the other pools',
              }
            : {}),
        });
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

function samePerPool(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (Math.abs((a[k] ?? 0) - (b[k] ?? 0)) > 1e-9) return false;
  return true;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
