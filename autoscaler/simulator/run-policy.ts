import { rebalancePausedRecords, stepLag } from './lag-model.js';
import { createRandom } from './seeded-random.js';
import { round, SeriesAccumulator } from './series-accumulator.js';
import type { SimConfig } from './sim-config-schema.js';
import { SimFleet } from './sim-fleet.js';
import type { SimObservation, SimPolicy } from './sim-policy.js';
import type { LoadSteps, PolicyRun, PolicySummary } from './sim-result.js';
import type { SpotMarket } from './spot-market.js';

const DAY_MS = 86_400_000;

export interface RunPolicyOptions {
  config: SimConfig;
  market: SpotMarket;
  load: LoadSteps;
  seed: number;
  /** Width of the report's time buckets. */
  bucketMs: number;
  /** Initial fleet (vCPUs), ready at the start, the same for every policy. */
  initialUnits: number;
  /** A finer window (e.g. the peak week) for the report. */
  zoom: { startMs: number; bucketMs: number; buckets: number };
}

/**
 * Replays the load through one policy, step by step: transitions and interruption warnings, the
 * policy's decision, the fleet's launches and drains, then the lag model on the capacity that is
 * consuming, with rebalance pauses for the partitions that moved. Accounts cost per pool at the
 * pool's spot price and the same instance-hours on demand.
 */
export function runPolicy(policy: SimPolicy, opts: RunPolicyOptions): PolicyRun {
  const { config, market, load } = opts;
  const fleetCfg = config.fleet;
  const fleet = new SimFleet(fleetCfg, market, createRandom(opts.seed, `fleet:${policy.name}`));
  const stepMs = load.stepMs;
  const stepSec = stepMs / 1000;
  const stepHours = stepSec / 3600;
  const steps = load.rates.length;
  const pools = market.pools;
  const onDemand = pools.map((p) => p.type.onDemandPricePerHour);
  const smallestUnits = Math.min(...pools.map((p) => p.type.vcpu));

  fleet.launch(opts.initialUnits, load.startMs - fleet.leadTimeMs);
  fleet.advance(load.startMs);
  fleet.takeChanges();

  const lags = new Float64Array(steps);
  const cursor = new Int32Array(pools.length);
  const series = new SeriesAccumulator(
    load.startMs,
    opts.bucketMs,
    Math.ceil((steps * stepMs) / opts.bucketMs),
  );
  const zoom = new SeriesAccumulator(opts.zoom.startMs, opts.zoom.bucketMs, opts.zoom.buckets);
  const nDays = Math.ceil((steps * stepMs) / DAY_MS);
  const dailyCost = new Array<number>(nDays).fill(0);
  let backlog = 0;
  let cost = 0;
  let onDemandCost = 0;
  let processedTotal = 0;
  let capacityTotal = 0;
  let scaleEvents = 0;
  let sloSteps = 0;
  let obs: SimObservation = {
    nowMs: load.startMs,
    stepMs,
    inputRate: load.rates[0] ?? 0,
    processedRate: load.rates[0] ?? 0,
    cpuUtilization: fleet.readyRate > 0 ? Math.min(1, (load.rates[0] ?? 0) / fleet.readyRate) : 1,
    backlogRecords: 0,
    lagSeconds: 0,
    fleet,
    leadTimeMs: fleet.leadTimeMs,
  };

  for (let i = 0; i < steps; i++) {
    const now = load.startMs + i * stepMs;
    fleet.advance(now);
    for (let p = 0; p < pools.length; p++) {
      const events = market.interruptions[p] ?? [];
      let c = cursor[p] as number;
      while (c < events.length && (events[c]?.timeMs ?? 0) <= now) {
        fleet.interrupt(p, events[c]?.fraction ?? 0, now);
        c++;
      }
      cursor[p] = c;
    }
    fleet.advance(now);

    obs = { ...obs, nowMs: now };
    const decision = policy.decide(obs);
    const desired = Math.max(fleetCfg.minUnits, decision.desiredUnits);
    let acted = false;
    if (desired > fleet.activeUnits) {
      const gap = desired - fleet.activeUnits;
      const steered = decision.perPool ? fleet.launchPerPool(decision.perPool, now) : 0;
      acted = steered > 0 || fleet.launch(gap - steered, now) > 0;
    } else if (desired <= fleet.activeUnits - smallestUnits || (decision.drain?.length ?? 0) > 0) {
      // Scale in only by whole instances: an excess smaller than any instance is no excess.
      const excess = fleet.activeUnits - desired;
      const victims =
        decision.drain && decision.drain.length > 0 ? decision.drain : fleet.chooseVictims(excess, now);
      for (const id of victims) acted = fleet.drain(id, now) || acted;
    }
    if (acted) scaleEvents++;

    const input = load.rates[i] as number;
    const capacity = fleet.readyRate;
    const changes = fleet.takeChanges();
    const paused =
      rebalancePausedRecords(changes.joinedRate, capacity, input, fleetCfg.rebalancePauseSeconds) +
      rebalancePausedRecords(
        changes.leftRate,
        capacity + changes.leftRate,
        input,
        fleetCfg.rebalancePauseSeconds + fleetCfg.restoreSeconds,
      );
    const step = stepLag(backlog, input, capacity, stepSec, paused);
    backlog = step.backlogRecords;
    lags[i] = step.lagSeconds;
    if (step.lagSeconds > config.sloLagSeconds) sloSteps++;
    processedTotal += step.processedRecords;
    capacityTotal += capacity * stepSec;

    let stepCost = 0;
    let stepOnDemand = 0;
    for (let p = 0; p < pools.length; p++) {
      const n = fleet.billedPerPool[p] as number;
      if (n === 0) continue;
      stepCost += n * market.price(p, now);
      stepOnDemand += n * (onDemand[p] as number);
    }
    stepCost *= stepHours;
    cost += stepCost;
    onDemandCost += stepOnDemand * stepHours;
    const day = Math.floor((i * stepMs) / DAY_MS);
    dailyCost[day] = (dailyCost[day] ?? 0) + stepCost;

    series.add(now, stepSec, input, capacity, step.processedRecords, step.lagSeconds, stepCost);
    zoom.add(now, stepSec, input, capacity, step.processedRecords, step.lagSeconds, stepCost);

    const processedRate = step.processedRecords / stepSec;
    obs = {
      nowMs: now + stepMs,
      stepMs,
      inputRate: input,
      processedRate,
      cpuUtilization: capacity > 0 ? Math.min(1, processedRate / capacity) : 1,
      backlogRecords: backlog,
      lagSeconds: step.lagSeconds,
      fleet,
      leadTimeMs: fleet.leadTimeMs,
    };
  }

  const summary: PolicySummary = {
    meanUtilization: capacityTotal > 0 ? round(processedTotal / capacityTotal, 4) : 0,
    p99LagSeconds: round(percentile(lags, 0.99), 1),
    sloViolationMinutesPct: round((100 * sloSteps) / Math.max(1, steps), 3),
    cost: round(cost, 2),
    onDemandCost: round(onDemandCost, 2),
    savingsPct: onDemandCost > 0 ? round(100 * (1 - cost / onDemandCost), 1) : 0,
    scaleEvents,
    interruptions: fleet.interrupted,
    drains: fleet.drained,
  };
  return {
    summary,
    series: series.finish(),
    zoom: zoom.finish(),
    dailyCost: dailyCost.map((c) => round(c, 2)),
  };
}

/** Nearest-rank percentile of the samples (sorted copy). */
export function percentile(samples: Float64Array, q: number): number {
  if (samples.length === 0) return 0;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}
