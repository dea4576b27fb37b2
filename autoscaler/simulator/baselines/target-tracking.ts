import type { TargetTrackingConfig } from '../sim-config-schema.js';
import type { SimDecision, SimObservation, SimPolicy } from '../sim-policy.js';

/**
 * EC2 Auto Scaling target tracking on average CPU (AWS-style, reactive): a scale-out alarm after
 * `scaleOutDatapoints` minutes above target, a scale-in alarm after `scaleInDatapoints` minutes
 * below 90 % of it; capacity set so that CPU would be at target, `desired = ceil(current × cpu /
 * target)`. Instances still warming up count toward capacity (no second scale-out for the same
 * load) and block scale-in, and scale-in waits out its cooldown after any scaling. It sees CPU
 * only: lag is invisible to it until it shows as 100 % CPU.
 */
export class TargetTrackingPolicy implements SimPolicy {
  readonly name = 'target-tracking';
  private above = 0;
  private below = 0;
  private lastScaleMs = Number.NEGATIVE_INFINITY;
  private lastScaleOutMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly config: TargetTrackingConfig) {}

  decide(obs: SimObservation): SimDecision {
    const { fleet } = obs;
    const cfg = this.config;
    const minutesPerStep = obs.stepMs / 60_000;
    const outNeeded = Math.max(1, Math.ceil(cfg.scaleOutDatapoints / minutesPerStep));
    const inNeeded = Math.max(1, Math.ceil(cfg.scaleInDatapoints / minutesPerStep));
    const cpu = obs.cpuUtilization;
    this.above = cpu > cfg.targetCpu ? this.above + 1 : 0;
    this.below = cpu < 0.9 * cfg.targetCpu ? this.below + 1 : 0;
    const current = fleet.readyUnits;
    const proposed = Math.ceil((current * cpu) / cfg.targetCpu);

    if (this.above >= outNeeded && proposed > fleet.activeUnits) {
      this.lastScaleMs = obs.nowMs;
      this.lastScaleOutMs = obs.nowMs;
      this.above = 0;
      return { desiredUnits: proposed };
    }
    const warmingUp = obs.nowMs - this.lastScaleOutMs < cfg.warmupSeconds * 1000 || fleet.bootingUnits > 0;
    const cooledDown = obs.nowMs - this.lastScaleMs >= cfg.scaleInCooldownSeconds * 1000;
    if (this.below >= inNeeded && !warmingUp && cooledDown && proposed < fleet.activeUnits) {
      this.lastScaleMs = obs.nowMs;
      this.below = 0;
      return { desiredUnits: Math.max(1, proposed) };
    }
    return { desiredUnits: fleet.activeUnits };
  }
}
