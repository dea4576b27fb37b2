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
import { DRAINING_TAG, type FleetInstance, type FleetSnapshot } from '../ports/fleet-provider.js';
import type { InterruptionNotice } from '../ports/interruption-source.js';
import type { MetricsSnapshot, WorkerObservation } from '../ports/metrics-source.js';
import { ForecastRefresher } from './forecast-refresher.js';
import type { SimConfig } from './sim-config-schema.js';
import type { SimInstance } from './sim-fleet.js';
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
  private readonly instanceCache = new Map<string, { key: string; value: FleetInstance }>();
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
    const { fleet, notices, leavingUnits } = this.snapshot(obs);
    const decision = plan({
      now,
      fleet,
      metrics: this.metrics(obs),
      forecast,
      model: this.model,
      policy: this.policy,
      memory: this.memory,
      interruptions: notices,
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

  private snapshot(obs: SimObservation): {
    fleet: FleetSnapshot;
    notices: InterruptionNotice[];
    leavingUnits: number;
  } {
    const instances: FleetInstance[] = [];
    const notices: InterruptionNotice[] = [];
    let leavingUnits = 0;
    for (const inst of obs.fleet.instances()) {
      instances.push(this.fleetInstance(inst));
      if (inst.noticeMs !== undefined) {
        notices.push({
          instanceId: inst.id,
          kind: 'interruption',
          deadlineMs: inst.endMs ?? inst.noticeMs + 120_000,
          issuedAtMs: inst.noticeMs,
          instanceType: inst.type,
          availabilityZone: inst.az,
        });
      }
      if (inst.noticeMs !== undefined || inst.state === 'draining') leavingUnits += inst.units;
    }
    // A real fleet's target keeps draining and warned instances until they terminate (with a
    // decrement for drains), and the simulated fleet launches what it is asked at once: so the
    // target is every live instance's units.
    const targetUnits = obs.fleet.activeUnits + leavingUnits;
    const fleet: FleetSnapshot = {
      observedAtMs: obs.nowMs,
      targetUnits,
      ...(this.perPool ? { perPoolTargetUnits: this.perPool } : {}),
      instances,
    };
    return { fleet, notices, leavingUnits };
  }

  /** FleetInstance views are cached per instance and state, so a large steady fleet costs little per tick. */
  private fleetInstance(inst: SimInstance): FleetInstance {
    const key = `${inst.state}|${inst.noticeMs ?? ''}`;
    const cached = this.instanceCache.get(inst.id);
    if (cached && cached.key === key) return cached.value;
    if (this.instanceCache.size > 50_000) this.instanceCache.clear();
    const value: FleetInstance = {
      instanceId: inst.id,
      instanceType: inst.type,
      availabilityZone: inst.az,
      market: 'spot',
      state: inst.state === 'booting' ? 'pending' : inst.state === 'terminated' ? 'terminated' : 'ready',
      launchTimeMs: inst.launchedMs,
      ...(inst.state === 'ready' || inst.state === 'draining' ? { readyTimeMs: inst.readyMs } : {}),
      weightUnits: inst.units,
      tags:
        inst.state === 'draining' && inst.noticeMs === undefined
          ? { [DRAINING_TAG]: String(inst.endMs ?? inst.readyMs) }
          : {},
    };
    this.instanceCache.set(inst.id, { key, value });
    return value;
  }

  /** Component metrics as the workers would publish them, over the last step. */
  private metrics(obs: SimObservation): MetricsSnapshot {
    const windowSec = obs.stepMs / 1000;
    const fleet = obs.fleet;
    const workers: WorkerObservation[] = [];
    for (const inst of fleet.instances()) {
      if (inst.state !== 'ready') continue;
      const share = fleet.readyRate > 0 ? inst.rate / fleet.readyRate : 0;
      const records = obs.processedRate * share * windowSec;
      const busy = (records / inst.rate) * inst.units;
      const stateBytes = this.stateBytes * share;
      workers.push({
        instanceId: inst.id,
        instanceType: inst.type,
        streams: [{ stream: STREAM, records, busyCpuSeconds: busy }],
        busyCpuSeconds: busy,
        stateBytes,
        liveSeries: Math.round(stateBytes / this.bytesPerSeries),
      });
    }
    return {
      observedAtMs: obs.nowMs,
      windowMs: obs.stepMs,
      workers,
      streams: [
        { stream: STREAM, recordsPerSecond: obs.inputRate, lagByPartition: { '0': obs.backlogRecords } },
      ],
    };
  }
}
