import type { AutoscalerPolicy, InstanceTypeSpec } from '../policy/policy-schema.js';
import {
  DRAIN_REASON_TAG,
  DRAINING_TAG,
  type FleetInstance,
  type InstanceId,
  type PoolId,
  poolIdOf,
} from '../ports/fleet-provider.js';
import type { InterruptionNotice } from '../ports/interruption-source.js';
import { fleetViewOf } from './fleet-view.js';
import { busyUnits, memoryFloorUnits, streamNeeds } from './load-need.js';
import type {
  PlanAction,
  PlanDecision,
  PlanInput,
  PlanInputsSummary,
  PlannerMemory,
  PlanReason,
} from './plan-types.js';
import {
  availablePools,
  currentPoolUnits,
  instancePoolId,
  largestPoolUnits,
  splitPerPool,
  typeMix,
} from './pool-split.js';
import { decideScaleIn } from './scale-in.js';

const sumUnits = (xs: readonly FleetInstance[]) => xs.reduce((a, i) => a + i.weightUnits, 0);
const round3 = (n: number) => Math.round(n * 1000) / 1000;

/**
 * Decides the fleet's target capacity (weighted units), the workers to drain and why. Pure: the same inputs give
 * the same decision, and what must be remembered comes back in `decision.memory` for the next call.
 * Capacity that is draining or under an interruption warning is "leaving": it stays in the target until it is
 * terminated with a decrement, so the decision is `kept + leaving`, and plans are made for `kept`.
 */
export function plan(input: PlanInput): PlanDecision {
  const { now, fleet, metrics, forecast, model, policy } = input;
  const memory = cloneMemory(input.memory);
  const reasons: PlanReason[] = [];
  const say = (r: PlanReason) => reasons.push(r);
  const types = typesOf(policy);
  const previousUnits = fleet.targetUnits;
  // Staying and leaving instances, staying units per pool: given by a caller that keeps them between ticks, or
  // computed here in one pass over the fleet.
  const view = input.fleetView ?? fleetViewOf(fleet, input.interruptions);
  const needIds = (input.interruptions?.length ?? 0) > 0 || memory.lostInstances.length > 0;

  const noticed = new Map<InstanceId, InterruptionNotice>();
  if (needIds) {
    for (const n of input.interruptions ?? []) if (view.isLive(n.instanceId)) noticed.set(n.instanceId, n);
    memory.lostInstances = memory.lostInstances.filter((id) => view.isLive(id));
  }
  const alreadyLost = new Set(memory.lostInstances);
  // Lost means noticed or drained for another reason than scale-in: only leaving instances can be.
  for (const inst of view.leaving) {
    const notice = noticed.get(inst.instanceId);
    const drainReason =
      inst.tags[DRAINING_TAG] !== undefined ? (inst.tags[DRAIN_REASON_TAG] ?? 'scale-in') : undefined;
    const lost = notice !== undefined || (drainReason !== undefined && drainReason !== 'scale-in');
    if (!lost || alreadyLost.has(inst.instanceId)) continue;
    alreadyLost.add(inst.instanceId);
    // Interruptions cluster in time within a pool: count the loss once and avoid its pool for new capacity.
    memory.lostInstances.push(inst.instanceId);
    memory.lastCapacityLossMs = now;
    memory.poolUnavailableUntilMs[poolIdOf(inst)] = now + policy.poolBackoffMs;
    say({
      code:
        notice?.kind === 'rebalance' || drainReason === 'rebalance'
          ? 'rebalance-recommendation'
          : 'interruption-warning',
      message: `instance ${inst.instanceId} (${poolIdOf(inst)}) is going away: replacing its ${inst.weightUnits} units in another pool`,
      values: { weightUnits: inst.weightUnits, deadlineMs: notice?.deadlineMs ?? 0 },
    });
  }
  for (const [pool, until] of Object.entries(memory.poolUnavailableUntilMs)) {
    if (until <= now) delete memory.poolUnavailableUntilMs[pool];
  }

  const { leaving, staying } = view;
  const scaleInDrainingUnits = sumUnits(
    leaving.filter(
      (i) => i.tags[DRAINING_TAG] !== undefined && (i.tags[DRAIN_REASON_TAG] ?? 'scale-in') === 'scale-in',
    ),
  );
  const leavingUnits = sumUnits(leaving);
  const stayingPools = view.stayingPoolUnits;
  const keptUnits = Math.max(0, previousUnits - leavingUnits);
  // Capacity lost to interruptions is replaced up to what the last decision kept. Without memory (first call, or a
  // restart), draining-tagged instances were already handled (replaced) and untagged noticed ones were not.
  const drainingTaggedUnits = sumUnits(leaving.filter((i) => i.tags[DRAINING_TAG] !== undefined));
  const keptFloor = memory.lastKeptUnits ?? Math.max(0, previousUnits - drainingTaggedUnits);
  const open = availablePools(policy, memory.poolUnavailableUntilMs, now);
  const mix = typeMix(open);
  const lead = { ...policy.leadTime, ...definedOnly(model.leadTime ?? {}) };
  const leadTimeMs = lead.bootMs + lead.joinMs + lead.restoreMs;
  const summary: PlanInputsSummary = {
    targetUnits: previousUnits,
    readyUnits: view.stayingReadyUnits,
    leavingUnits,
    leadTimeMs,
  };

  const finish = (desiredUnits: number, drain: FleetInstance[]): PlanDecision => {
    const action: PlanAction =
      drain.length > 0 ? 'scale-in' : desiredUnits > previousUnits ? 'scale-out' : 'hold';
    if (action === 'scale-out') memory.lastScaleOutMs = now;
    if (action === 'scale-in') memory.lastScaleInMs = now;
    memory.lastKeptUnits = desiredUnits - leavingUnits;
    // Units per pool of the live instances, minus those about to drain (one pass over the fleet per decision).
    // Staying pools (already counted) plus the few leaving instances, then the fleet's per-pool targets.
    const base = new Map(stayingPools);
    for (const [id, u] of currentPoolUnits(leaving, undefined)) base.set(id, (base.get(id) ?? 0) + u);
    if (drain.length === 0)
      for (const [id, target] of Object.entries(fleet.perPoolTargetUnits ?? {}))
        base.set(id, Math.max(base.get(id) ?? 0, target));
    for (const d of drain) {
      const id = instancePoolId(d);
      base.set(id, (base.get(id) ?? 0) - d.weightUnits);
      if ((base.get(id) ?? 0) <= 1e-9) base.delete(id);
    }
    return {
      atMs: now,
      desiredUnits,
      previousUnits,
      action,
      perPool: splitPerPool(desiredUnits, base, open, types),
      drain: drain.map((d) => d.instanceId),
      reasons,
      inputs: summary,
      memory,
    };
  };

  const stale =
    metrics !== undefined &&
    now - metrics.observedAtMs > 2 * Math.max(metrics.windowMs, policy.metricsWindowMs);
  if (metrics === undefined || stale || (metrics.workers.length === 0 && metrics.streams.length === 0)) {
    // Without data, keep what we had (replacing lost capacity) and never scale in, let alone to zero.
    const last = memory.recentRequired[memory.recentRequired.length - 1]?.units ?? 0;
    const keep = Math.max(keptFloor, last, policy.minUnits);
    say({
      code: stale ? 'metrics-stale' : 'metrics-missing',
      message: `no ${stale ? 'recent ' : ''}metrics for the window: holding capacity at ${keep} units (+${leavingUnits} leaving); no scale-in without data`,
      values: { keptUnits: keep, leavingUnits, metricsAgeMs: metrics ? now - metrics.observedAtMs : -1 },
    });
    return finish(
      Math.max(previousUnits, Math.min(keep, Math.max(policy.maxUnits, keptFloor)) + leavingUnits),
      [],
    );
  }

  const needs = streamNeeds(metrics, forecast, now, leadTimeMs, policy, model, mix, types);
  const busy = busyUnits(metrics, types);
  let liveTotal = 0;
  let plannedTotal = 0;
  let lagTotal = 0;
  let maxLagSeconds = 0;
  for (const n of needs) {
    liveTotal += n.liveRecordsPerSecond;
    plannedTotal += n.plannedRecordsPerSecond;
    lagTotal += n.lagRecords;
    if (n.lagRecords > 0)
      maxLagSeconds = Math.max(maxLagSeconds, n.lagRecords / Math.max(1e-9, n.liveRecordsPerSecond));
  }
  // Streams the model has not learned yet cost what the fleet's busy CPU says a record costs now.
  const reactiveCost = liveTotal > 0 ? busy / liveTotal : undefined;
  let modelAt100 = 0;
  let lagUnits = 0;
  for (const n of needs) {
    const cost = n.unitSecondsPerRecord ?? reactiveCost;
    if (cost === undefined) continue;
    modelAt100 += n.plannedRecordsPerSecond * cost;
    // Burn the lag down within catchUpSeconds: lag / catchUpSeconds extra records/s, spent at 100 % while it lasts.
    lagUnits += (n.lagRecords / policy.catchUpSeconds) * cost;
  }
  // Busy CPU grown by the planned/live ratio is the reactive estimate; it also covers overheads the model misses.
  const reactiveAt100 = busy * (liveTotal > 0 ? Math.max(1, plannedTotal / liveTotal) : 1);
  const cpuUnitsAt100 = Math.max(modelAt100, reactiveAt100);
  // Scale so that used / (capacity × target) = 1, plus the burn-down capacity.
  const cpuUnits = cpuUnitsAt100 / policy.targetUtilization + lagUnits;
  const mem = memoryFloorUnits(metrics, model, policy, mix, types);
  const hardFloor = Math.max(mem.units, policy.minUnits);
  let required = Math.max(cpuUnits, hardFloor);

  let headroomUnits = 0;
  // Not on a fleet so small that the policy accepts an uncovered pool loss (poolLossHeadroomMinUnits).
  if (policy.largestPoolLossHeadroom && required > policy.poolLossHeadroomMinUnits + 1e-9) {
    // Losing a pool leaves a shortfall fraction f of the need until replacements arrive (lead time); the lag then
    // reaches about f × lead time seconds of input, so f ≤ lagSloSeconds / lead time keeps the lag SLO.
    const allowedShortfall = Math.min(1, policy.lagSloSeconds / Math.max(1, leadTimeMs / 1000));
    const needAfterLoss = Math.max(cpuUnitsAt100 * (1 - allowedShortfall), mem.units);
    const base = stayingPools;
    let held = 0;
    let largestHeld = 0;
    for (const u of base.values()) {
      held += u;
      if (u > largestHeld) largestHeld = u;
    }
    let d = Math.ceil(required - 1e-9);
    for (let i = 0; i < 8; i++) {
      // A split that adds nothing (d within what the pools hold) only shrinks pools: its largest pool is at most
      // the largest held now, so when that already leaves enough, the split need not be computed.
      if (d <= held + 1e-9 && d - largestHeld >= needAfterLoss - 1e-9) break;
      const remaining = d - largestPoolUnits(splitPerPool(d, base, open, types));
      if (remaining >= needAfterLoss - 1e-9) break;
      if (policy.pools.length <= 1) {
        say({
          code: 'pool-loss-uncovered',
          message: 'a single pool cannot cover its own loss: add instance types or AZs',
          values: { pools: policy.pools.length },
        });
        break;
      }
      d += Math.ceil(needAfterLoss - remaining);
    }
    headroomUnits = d;
    required = Math.max(required, d);
  }
  // Whole instances: round up to the smallest weight among the open pools' types.
  const granularity = smallestWeight(open, types);
  let requiredUnits = Math.ceil(required / granularity - 1e-9) * granularity;
  // Rounding up to whole instances loses up to one instance of utilization (much on small fleets): one instance
  // fewer is chosen when its utilization is nearer the target and still inside the band, and every floor (memory,
  // minimum, pool-loss headroom) and the lag burn-down still fit.
  const fewer = requiredUnits - granularity;
  const floors = Math.max(hardFloor, headroomUnits);
  if (fewer > 0 && fewer >= floors - 1e-9 && cpuUnitsAt100 > 0 && fewer - lagUnits > 0) {
    const utilFewer = cpuUnitsAt100 / (fewer - lagUnits);
    const utilUp = cpuUnitsAt100 / Math.max(1e-9, requiredUnits - lagUnits);
    const target = policy.targetUtilization;
    if (utilFewer <= policy.utilizationBand[1] && Math.abs(utilFewer - target) < Math.abs(utilUp - target))
      requiredUnits = fewer;
  }
  if (requiredUnits > policy.maxUnits) {
    say({
      code: 'capped-at-max',
      message: `need ${requiredUnits} units exceeds maxUnits ${policy.maxUnits}: capped (lag may grow)`,
      values: { requiredUnits, maxUnits: policy.maxUnits },
    });
    requiredUnits = policy.maxUnits;
  }
  memory.recentRequired = memory.recentRequired.filter(
    (r) => r.atMs >= now - policy.scaleInSustainMs && r.atMs < now,
  );
  memory.recentRequired.push({ atMs: now, units: requiredUnits });
  const projectedUtilization = keptUnits > 0 ? cpuUnitsAt100 / keptUnits : Number.POSITIVE_INFINITY;
  Object.assign(summary, {
    liveRecordsPerSecond: round3(liveTotal),
    plannedRecordsPerSecond: round3(plannedTotal),
    lagRecords: lagTotal,
    cpuUnitsAt100: round3(cpuUnitsAt100),
    memoryUnits: round3(mem.units),
    requiredUnits,
    projectedUtilization: round3(projectedUtilization),
  });
  say({
    code: 'need',
    message: `planned ${round3(plannedTotal)} records/s (live ${round3(liveTotal)}) needs ${round3(cpuUnitsAt100)} units at 100 %; ${requiredUnits} after target ${policy.targetUtilization}, lag burn-down, memory and pool-loss headroom`,
    values: {
      cpuUnitsAt100: round3(cpuUnitsAt100),
      modelUnitsAt100: round3(modelAt100),
      reactiveUnitsAt100: round3(reactiveAt100),
      lagUnits: round3(lagUnits),
      maxLagSeconds: round3(maxLagSeconds),
      memoryUnits: round3(mem.units),
      stateBytes: mem.stateBytes,
      headroomUnits,
      requiredUnits,
      keptUnits,
    },
  });

  const [, high] = policy.utilizationBand;
  // Lag forces action when it is over the SLO and the spare capacity at 100 % cannot burn it within catchUpSeconds.
  const lagOverSlo = maxLagSeconds > policy.lagSloSeconds && cpuUnitsAt100 + lagUnits > keptUnits;
  const floorBinding = Math.max(hardFloor, headroomUnits) > keptUnits + 1e-9;
  if (requiredUnits > keptUnits && (projectedUtilization > high || floorBinding || lagOverSlo)) {
    const sinceOut = now - (memory.lastScaleOutMs ?? Number.NEGATIVE_INFINITY);
    if (sinceOut < policy.scaleUpCooldownMs && !lagOverSlo && !floorBinding && keptUnits >= keptFloor) {
      say({
        code: 'scale-up-cooldown',
        message: 'within the scale-up cooldown: waiting for the last scale-out to join',
        values: { sinceLastScaleOutMs: sinceOut },
      });
      return finish(Math.max(previousUnits, keptFloor + leavingUnits), []);
    }
    // Step limit, except for hard floors (state must fit, minUnits).
    const newKept = Math.min(
      requiredUnits,
      Math.max(keptUnits + policy.maxScaleUpStepUnits, Math.ceil(hardFloor - 1e-9)),
    );
    say({
      code: lagOverSlo ? 'lag-over-slo' : floorBinding ? 'floor' : 'above-band',
      message: `scaling out to ${newKept} kept units (+${leavingUnits} leaving): ${lagOverSlo ? `lag ${round3(maxLagSeconds)} s over the ${policy.lagSloSeconds} s SLO` : floorBinding ? 'memory, minimum or pool-loss floor' : `projected utilization ${round3(projectedUtilization)} above ${high}`}`,
      values: { newKeptUnits: newKept, projectedUtilization: round3(projectedUtilization), bandHigh: high },
    });
    memory.scaleInWantedSinceMs = undefined;
    return finish(Math.max(previousUnits, Math.max(newKept, keptFloor) + leavingUnits), []);
  }

  let stateOf: Map<InstanceId, number> | undefined;
  const victims = decideScaleIn(
    {
      now,
      policy,
      memory,
      keptUnits,
      requiredUnits,
      cpuUnitsAt100,
      plannedRecordsPerSecond: plannedTotal,
      projectedUtilization,
      scaleInDrainingUnits,
      candidates: staying,
      poolUnits: stayingPools,
      stateBytesOf: (id) => {
        if (stateOf === undefined) {
          stateOf = new Map();
          for (const w of metrics.workers) stateOf.set(w.instanceId, w.stateBytes);
        }
        return stateOf.get(id) ?? 0;
      },
      restoreBytesPerSecond: model.restoreBytesPerSecond ?? policy.restoreBytesPerSecond,
      leadTimeMs,
      forecast,
    },
    say,
  );
  if (victims.length > 0) return finish(previousUnits - sumUnits(victims), victims);
  if (keptFloor > keptUnits) {
    say({
      code: 'replace-lost-capacity',
      message: `replacing ${keptFloor - keptUnits} units lost to interruptions`,
      values: { keptFloor, keptUnits },
    });
  }
  return finish(Math.max(previousUnits, keptFloor + leavingUnits), []);
}

const smallestWeights = new WeakMap<
  readonly PoolId[],
  { types: ReadonlyMap<string, InstanceTypeSpec>; w: number }
>();

/** The smallest weight among the pools' types (1 for an unknown type), memoized on the pool list. */
function smallestWeight(open: readonly PoolId[], types: ReadonlyMap<string, InstanceTypeSpec>): number {
  const known = smallestWeights.get(open);
  if (known !== undefined && known.types === types) return known.w;
  const w = Math.min(...open.map((p) => types.get(p.slice(0, p.lastIndexOf('@')))?.weight ?? 1));
  smallestWeights.set(open, { types, w });
  return w;
}

const typeMaps = new WeakMap<AutoscalerPolicy['instanceTypes'], ReadonlyMap<string, InstanceTypeSpec>>();

/** The policy's instance types by name (memoized per policy: the planner runs every tick with the same one). */
function typesOf(policy: AutoscalerPolicy): ReadonlyMap<string, InstanceTypeSpec> {
  let types = typeMaps.get(policy.instanceTypes);
  if (types === undefined) {
    types = new Map(policy.instanceTypes.map((t) => [t.name, t]));
    typeMaps.set(policy.instanceTypes, types);
  }
  return types;
}

function cloneMemory(m: PlannerMemory): PlannerMemory {
  return {
    ...m,
    lostInstances: [...m.lostInstances],
    recentRequired: m.recentRequired.map((r) => ({ ...r })),
    poolUnavailableUntilMs: { ...m.poolUnavailableUntilMs },
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
