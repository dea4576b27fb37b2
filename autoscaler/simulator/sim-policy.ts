import type { SimFleetView } from './sim-fleet.js';

/** What a policy observes at a control tick: the last step's measurements and the fleet. */
export interface SimObservation {
  nowMs: number;
  stepMs: number;
  /** Input records/s measured over the last step. */
  inputRate: number;
  /** Records/s processed over the last step. */
  processedRate: number;
  /** Average CPU of the consuming instances over the last step (0–1). */
  cpuUtilization: number;
  /** Records waiting (consumer lag summed over partitions). */
  backlogRecords: number;
  /** Backlog / input rate. */
  lagSeconds: number;
  fleet: SimFleetView;
  /** Launch lead time (boot + join + restore). */
  leadTimeMs: number;
}

/** A policy's answer: the units (vCPUs) that should stay, and optionally which instances to drain. */
export interface SimDecision {
  desiredUnits: number;
  /** Instances to checkpoint-then-drain; when absent on a scale-in the fleet chooses victims. */
  drain?: readonly string[];
  /** Units wanted per pool (`type@az`); when given, launches go where the policy asks. */
  perPool?: Readonly<Record<string, number>>;
}

/**
 * The small interface the simulator calls every control tick. Baselines (autoscaler/simulator/
 * baselines/) and the liveagg adapter (which calls the real `plan`) implement it.
 */
export interface SimPolicy {
  readonly name: string;
  /** Called once per control tick, in time order. A policy may keep state between calls. */
  decide(obs: SimObservation): SimDecision;
}

/** Builds a fresh policy for one run (policies are stateful, each run gets its own). */
export type SimPolicyFactory = () => SimPolicy;
