import type { LagReactiveConfig } from '../sim-config-schema.js';
import type { SimDecision, SimObservation, SimPolicy } from '../sim-policy.js';

/**
 * KEDA's Kafka scaler behind a Kubernetes HPA: the metric is the consumer group's total lag with
 * an average-value target of `lagThresholdRecords` per replica, so desired replicas =
 * ceil(total lag / threshold), between `minReplicas` and the partition count; a CPU trigger next to
 * it (as ScaledObjects usually carry) proposes ceil(replicas × cpu / target) and the HPA takes the
 * larger; no change within the HPA tolerance; scale-down takes the largest recommendation of the
 * stabilization window. A replica is one instance (`unitsPerReplica` vCPUs).
 */
export class LagReactivePolicy implements SimPolicy {
  readonly name = 'lag-reactive';
  private readonly recommendations: { atMs: number; replicas: number }[] = [];
  private lastPollMs = Number.NEGATIVE_INFINITY;
  private replicas: number | undefined;

  constructor(
    private readonly config: LagReactiveConfig,
    private readonly unitsPerReplica: number,
    private readonly maxReplicas: number,
  ) {}

  decide(obs: SimObservation): SimDecision {
    const cfg = this.config;
    const current = Math.max(1, Math.round(obs.fleet.activeUnits / this.unitsPerReplica));
    this.replicas ??= current;
    if (obs.nowMs - this.lastPollMs < cfg.pollingIntervalSeconds * 1000) {
      return { desiredUnits: this.replicas * this.unitsPerReplica };
    }
    this.lastPollMs = obs.nowMs;
    const byLag = this.proposal(current, obs.backlogRecords / (current * cfg.lagThresholdRecords));
    const byCpu =
      cfg.cpuTargetUtilization > 0
        ? this.proposal(current, obs.cpuUtilization / cfg.cpuTargetUtilization)
        : 0;
    let recommended = Math.max(byLag, byCpu);
    recommended = Math.min(this.maxReplicas, Math.max(cfg.minReplicas, 1, recommended));
    this.recommendations.push({ atMs: obs.nowMs, replicas: recommended });
    const windowStart = obs.nowMs - cfg.scaleDownStabilizationSeconds * 1000;
    while ((this.recommendations[0]?.atMs ?? obs.nowMs) < windowStart) this.recommendations.shift();
    const stabilized = Math.max(...this.recommendations.map((r) => r.replicas));
    // Scale up at once; scale down only to the highest recommendation of the window.
    this.replicas = recommended > current ? recommended : Math.min(current, stabilized);
    return { desiredUnits: this.replicas * this.unitsPerReplica };
  }

  /** HPA: desired = ceil(current × metric / target), unchanged within the tolerance. */
  private proposal(current: number, ratio: number): number {
    return Math.abs(ratio - 1) <= this.config.tolerance ? current : Math.ceil(current * ratio);
  }
}
