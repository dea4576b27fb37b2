import { plan } from '../plan/plan.js';
import {
  ALL_STREAMS,
  type CapacityModel,
  capacityModelFromThroughput,
  emptyPlannerMemory,
  type LoadForecast,
  type PlanDecision,
  type PlannerMemory,
} from '../plan/plan-types.js';
import type { AutoscalerPolicy, AutoscalerPolicyInput } from '../policy/policy-schema.js';
import { parseAutoscalerPolicy } from '../policy/policy-schema.js';
import type { FleetSnapshot } from '../ports/fleet-provider.js';
import type { MetricsSnapshot } from '../ports/metrics-source.js';
import { ForecastRefresher } from './forecast-refresher.js';
import { PlanFleetIndex } from './plan-fleet-index.js';
import type { SimConfig } from './sim-config-schema.js';
import type { SimFleetChangeLog, SimFleetView } from './sim-fleet.js';
import type { SimDecision, SimObservation, SimPolicy } from './sim-policy.js';

/** The one input stream of a replayed trace. */
const STREAM = 'input';

export interface LiveaggPolicyOptions {
  config: SimConfig;
  /** The user's autoscaler policy (same format as the live autoscaler's); fleet fields come from the simulation. */
  policy?: AutoscalerPolicyInput;
  /** Bucket width of the forecast (the trace's interval). */
  forecastIntervalMs: number;
  startMs: number;
}

/**
 * The autoscaler's real `plan`, driven by the simulator: each tick it turns the simulated fleet,
 * metrics and interruption warnings into a `PlanInput`, refreshes the forecast from the load seen
 * so far (never the future), and applies the decision's desired units and drain list.
 */
export class LiveaggPolicy implements SimPolicy {
  readonly name = 'liveagg';
  readonly policy: AutoscalerPolicy;
  readonly model: CapacityModel;
  private memory: PlannerMemory = emptyPlannerMemory();
  private readonly forecaster: ForecastRefresher;
  private tracked: SimFleetView | undefined;
  /** The fleet's change log; null when the fleet keeps none (the view is then rebuilt every tick). */
  private changes: SimFleetChangeLog | null | undefined;
  private index = new PlanFleetIndex(STREAM);
  private readonly stateBytes: number;
  private readonly bytesPerSeries: number;
  lastDecision: PlanDecision | undefined;
  private perPool: Record<string, number> | undefined;

  constructor(opts: LiveaggPolicyOptions) {
    const { config } = opts;
    const fleet = config.fleet;
    const leadTime = {
      bootMs: fleet.bootSeconds * 1000,
      joinMs: fleet.joinSeconds * 1000,
      restoreMs: fleet.restoreSeconds * 1000,
    };
    this.policy = parseAutoscalerPolicy({
      lagSloSeconds: config.sloLagSeconds,
      rebalancePauseMs: fleet.rebalancePauseSeconds * 1000,
      minUnits: fleet.minUnits,
      maxUnits: 1_000_000,
      maxScaleUpStepUnits: 1_000_000,
      ...opts.policy,
      instanceTypes: fleet.instanceTypes.map((t) => ({
        name: t.name,
        vcpu: t.vcpu,
        memoryGiB: t.memoryGiB,
        spotPriceHintPerHour: t.spotBasePricePerHour,
        onDemandPricePerHour: t.onDemandPricePerHour,
      })),
      availabilityZones: fleet.availabilityZones,
      pools: [],
      leadTime,
    });
    this.model = capacityModelFromThroughput(
      Object.fromEntries(fleet.instanceTypes.map((t) => [t.name, t.recordsPerSecPerVcpu])),
      { leadTime, bytesPerSeries: config.bytesPerSeries },
    );
    this.stateBytes = config.stateGiB * 1024 ** 3;
    this.bytesPerSeries = config.bytesPerSeries;
    this.forecaster = new ForecastRefresher({
      intervalMs: opts.forecastIntervalMs,
      refreshMs: config.forecastRefreshMinutes * 60_000,
      historyMs: config.forecastHistoryDays * 86_400_000,
      horizonMs: config.forecastHorizonHours * 3_600_000,
    });
  }

  decide(obs: SimObservation): SimDecision {
    const now = obs.nowMs;
    this.forecaster.observe(now, obs.inputRate);
    const f = this.forecaster.forecastAt(now);
    const forecast: LoadForecast | undefined = f
      ? { generatedAtMs: now, series: [{ stream: ALL_STREAMS, points: f.points }] }
      : undefined;
    const { fleet, view } = this.snapshot(obs);
    const leavingUnits = view.leavingUnits;
    const decision = plan({
      now,
      fleet,
      metrics: this.metrics(obs, view),
      forecast,
      model: this.model,
      policy: this.policy,
      memory: this.memory,
      interruptions: view.notices,
      fleetView: view,
    });
    this.memory = decision.memory;
    this.lastDecision = decision;
    // The plan's target counts instances still leaving (they stay in the fleet's target until
    // terminated); the simulated fleet compares desired units with the instances that stay.
    this.perPool = decision.perPool;
    return {
      desiredUnits: Math.max(0, decision.desiredUnits - leavingUnits),
      drain: decision.drain,
      ...(decision.perPool ? { perPool: decision.perPool } : {}),
    };
  }

  /**
   * The fleet as a fleet provider would list it, and its planner view: kept up to date from the simulated fleet's
   * change log (a tick costs the instances that changed, not the fleet), or rebuilt when the fleet keeps no log.
   */
  private snapshot(obs: SimObservation): { fleet: FleetSnapshot; view: PlanFleetIndex } {
    if (this.changes === undefined || this.tracked !== obs.fleet) {
      this.tracked = obs.fleet;
      this.changes = obs.fleet.trackChanges?.() ?? null;
      this.index = new PlanFleetIndex(STREAM);
      for (const inst of obs.fleet.instances()) this.index.apply(inst);
    } else if (this.changes === null) {
      this.index = new PlanFleetIndex(STREAM);
      for (const inst of obs.fleet.instances()) this.index.apply(inst);
    } else {
      for (const inst of this.changes.take()) this.index.apply(inst);
    }
    const view = this.index;
    // A real fleet's target keeps draining and warned instances until they terminate (with a
    // decrement for drains), and the simulated fleet launches what it is asked at once: so the
    // target is every live instance's units.
    const fleet: FleetSnapshot = {
      observedAtMs: obs.nowMs,
      targetUnits: obs.fleet.activeUnits + view.leavingUnits,
      ...(this.perPool ? { perPoolTargetUnits: this.perPool } : {}),
      instances: view.instances,
    };
    return { fleet, view };
  }

  /** Component metrics as the workers would publish them, over the last step. */
  private metrics(obs: SimObservation, view: PlanFleetIndex): MetricsSnapshot {
    const windowSec = obs.stepMs / 1000;
    view.refreshWorkers(
      obs.processedRate,
      obs.fleet.readyRate,
      windowSec,
      this.stateBytes,
      this.bytesPerSeries,
    );
    return {
      observedAtMs: obs.nowMs,
      windowMs: obs.stepMs,
      workers: view.workers,
      streams: [
        { stream: STREAM, recordsPerSecond: obs.inputRate, lagByPartition: { '0': obs.backlogRecords } },
      ],
    };
  }
}
