import type { AutoscalerPolicy } from '../policy/policy-schema.js';
import type { FleetInstance, InstanceId, PoolId } from '../ports/fleet-provider.js';
import type { LoadForecast, PlannerMemory, PlanReason } from './plan-types.js';
import { scaleInEconomics } from './scale-in-economics.js';
import { chooseVictims } from './victims.js';

/** What the scale-in gate needs from the planner. */
export interface ScaleInContext {
  now: number;
  policy: AutoscalerPolicy;
  memory: PlannerMemory;
  keptUnits: number;
  requiredUnits: number;
  cpuUnitsAt100: number;
  plannedRecordsPerSecond: number;
  projectedUtilization: number;
  scaleInDrainingUnits: number;
  candidates: readonly FleetInstance[];
  poolUnits: ReadonlyMap<PoolId, number>;
  stateBytesOf: (id: InstanceId) => number;
  restoreBytesPerSecond: number;
  leadTimeMs: number;
  forecast: LoadForecast | undefined;
}

/** Victims to drain (empty = hold), with the reasons either way. Updates `memory.scaleInWantedSinceMs`. */
export function decideScaleIn(ctx: ScaleInContext, say: (r: PlanReason) => void): FleetInstance[] {
  const { now, policy, memory, keptUnits } = ctx;
  const overMax = keptUnits > policy.maxUnits;
  const [low] = policy.utilizationBand;
  const wanted = overMax || (ctx.requiredUnits < keptUnits && ctx.projectedUtilization < low);
  if (!wanted) {
    memory.scaleInWantedSinceMs = undefined;
    const values = {
      projectedUtilization: ctx.projectedUtilization,
      bandLow: low,
      requiredUnits: ctx.requiredUnits,
      keptUnits,
    };
    if (ctx.projectedUtilization < low) {
      // Below the band, but the fleet is already as small as the need (e.g. at minUnits or one instance).
      say({
        code: 'at-need',
        message: `projected utilization ${fmt(ctx.projectedUtilization)} is below the band's low ${low}, but the need (${ctx.requiredUnits} units) is not below the ${keptUnits} kept: holding`,
        values,
      });
    } else {
      say({
        code: 'within-band',
        message: `projected utilization ${fmt(ctx.projectedUtilization)} is not below the band's low ${low}: holding`,
        values,
      });
    }
    return [];
  }
  memory.scaleInWantedSinceMs ??= now;
  const hold = (code: string, message: string, values: Record<string, number>) => {
    say({ code, message, values });
    return [];
  };
  if (ctx.scaleInDrainingUnits > 0) {
    return hold(
      'drain-in-progress',
      'a scale-in drain is still in progress: no new victims until it completes',
      {
        drainingUnits: ctx.scaleInDrainingUnits,
      },
    );
  }
  const sinceLoss = now - (memory.lastCapacityLossMs ?? Number.NEGATIVE_INFINITY);
  if (!overMax && sinceLoss < policy.noScaleInAfterInterruptionMs) {
    return hold('recent-capacity-loss', 'capacity was lost to an interruption recently: not scaling in', {
      sinceLossMs: sinceLoss,
      noScaleInAfterInterruptionMs: policy.noScaleInAfterInterruptionMs,
    });
  }
  // As Flink's autoscaler: no scale-in for a while after a scale-out (it was needed); successive scale-ins are paced
  // by the drains (one batch at a time) and by the sustain window instead.
  const lastOut = memory.lastScaleOutMs ?? Number.NEGATIVE_INFINITY;
  if (!overMax && now - lastOut < policy.scaleDownCooldownMs) {
    return hold('scale-down-cooldown', 'within the scale-down cooldown after the last scale-out', {
      sinceLastScaleOutMs: now - lastOut,
      scaleDownCooldownMs: policy.scaleDownCooldownMs,
    });
  }
  const wantedForMs = now - memory.scaleInWantedSinceMs;
  if (!overMax && wantedForMs < policy.scaleInSustainMs) {
    return hold('scale-in-not-sustained', 'the lower need has not lasted the sustain window yet', {
      wantedForMs,
      scaleInSustainMs: policy.scaleInSustainMs,
    });
  }
  // Scale in only to the highest need seen over the sustain window, by at most maxScaleDownFraction per step.
  let sustainedMax = ctx.requiredUnits;
  for (const r of memory.recentRequired)
    if (r.atMs >= now - policy.scaleInSustainMs) sustainedMax = Math.max(sustainedMax, r.units);
  // By at most maxScaleDownFraction per step, but always by one whole instance if need be: on a fleet of two, 40 % is
  // less than an instance, and the fraction alone would keep it at two for good.
  let smallest = Number.POSITIVE_INFINITY;
  for (const c of ctx.candidates) if (c.weightUnits < smallest) smallest = c.weightUnits;
  const stepFloor = Math.min(Math.ceil(keptUnits * (1 - policy.maxScaleDownFraction)), keptUnits - smallest);
  const newKept = Math.min(policy.maxUnits, Math.max(sustainedMax, stepFloor, policy.minUnits));
  // No candidate fits (not even the smallest): skip ordering the fleet for nothing.
  const victims =
    smallest > keptUnits - newKept + 1e-9
      ? []
      : chooseVictims(ctx.candidates, keptUnits - newKept, ctx.stateBytesOf, ctx.poolUnits);
  const removedUnits = victims.reduce((a, v) => a + v.weightUnits, 0);
  if (removedUnits <= 0) {
    return hold('no-victim-fits', 'no instance fits in the units that may be removed', {
      removableUnits: keptUnits - newKept,
    });
  }
  const { horizonMs, roundTrip } = savingHorizon(ctx, keptUnits - removedUnits);
  const victimStateBytes = victims.reduce((a, v) => a + ctx.stateBytesOf(v.instanceId), 0);
  const econ = scaleInEconomics({
    removedUnits,
    horizonMs,
    victimStateBytes,
    restoreBytesPerSecond: ctx.restoreBytesPerSecond,
    rebalancePauseMs: policy.rebalancePauseMs,
    keptUnits: keptUnits - removedUnits,
    movedFraction: removedUnits / Math.max(1, keptUnits),
    cpuUnitsAt100: ctx.cpuUnitsAt100,
    roundTrip,
  });
  const values = {
    removedUnits,
    horizonMs,
    victimStateBytes,
    ...econ,
    minSavingRatio: policy.scaleInMinSavingRatio,
  };
  if (!overMax && econ.savedUnitHours < policy.scaleInMinSavingRatio * econ.moveCostUnitHours) {
    return hold(
      'scale-in-not-worth-moving-state',
      `saving ${fmt(econ.savedUnitHours)} unit-hours does not beat ${policy.scaleInMinSavingRatio}× the ${fmt(econ.moveCostUnitHours)} unit-hours of moving ${victimStateBytes} bytes of state`,
      values,
    );
  }
  say({
    code: overMax ? 'above-max-units' : 'scale-in',
    message: `removing ${removedUnits} units (${victims.length} workers, drained first): saving ${fmt(econ.savedUnitHours)} unit-hours over ${fmt(horizonMs / 3_600_000)} h vs ${fmt(econ.moveCostUnitHours)} to move state`,
    values: { ...values, sustainedRequiredUnits: sustainedMax, newKeptUnits: keptUnits - removedUnits },
  });
  return victims;
}

/**
 * How long the smaller fleet suffices: until the forecast (chosen band) would need more than `keptAfter`, minus the
 * lead time to bring capacity back; the policy's default horizon without a forecast.
 */
function savingHorizon(ctx: ScaleInContext, keptAfter: number): { horizonMs: number; roundTrip: boolean } {
  const { forecast, policy, now } = ctx;
  const points = new Map<number, number>();
  for (const s of forecast?.series ?? []) {
    for (const p of s.points)
      if (p.timestampMs > now)
        points.set(p.timestampMs, (points.get(p.timestampMs) ?? 0) + p[policy.forecastQuantile]);
  }
  if (points.size === 0 || ctx.plannedRecordsPerSecond <= 0)
    return { horizonMs: policy.savingHorizonMs, roundTrip: false };
  const unitsPerRecordPerSecond = ctx.cpuUnitsAt100 / ctx.plannedRecordsPerSecond;
  let last = now;
  for (const [t, rate] of [...points].sort((a, b) => a[0] - b[0])) {
    if ((rate * unitsPerRecordPerSecond) / policy.targetUtilization > keptAfter) {
      return { horizonMs: Math.max(0, t - now - ctx.leadTimeMs), roundTrip: true };
    }
    last = t;
  }
  return { horizonMs: last - now, roundTrip: false };
}

function fmt(n: number): string {
  return Number.isFinite(n) ? String(Math.round(n * 1000) / 1000) : String(n);
}
