/** Inputs to weigh a scale-in's saving against the cost of moving the victims' state. */
export interface ScaleInEconomicsInput {
  /** Units the scale-in removes. */
  removedUnits: number;
  /** How long the lower capacity is expected to suffice, ms (until the forecast needs it back, or a default). */
  horizonMs: number;
  /** State on the victims, bytes (restored by the partitions' next owners). */
  victimStateBytes: number;
  restoreBytesPerSecond: number;
  /** Consumption pause of the moving partitions at the rebalance, ms. */
  rebalancePauseMs: number;
  /** Units kept after the scale-in (they pause during the rebalance). */
  keptUnits: number;
  /** Fraction of the input whose partitions move (victim units / units before). */
  movedFraction: number;
  /** Units the whole input needs at 100 % (replaying the paused share costs that share of it for the pause). */
  cpuUnitsAt100: number;
  /** True when the forecast needs the capacity back within the horizon: the state moves twice (out and back). */
  roundTrip: boolean;
}

/** Saved and spent capacity-unit hours of a scale-in. */
export interface ScaleInEconomics {
  savedUnitHours: number;
  moveCostUnitHours: number;
  restoreSeconds: number;
}

/**
 * Saving = removed units × the time they are not needed. Cost = capacity that does no new work because of the move:
 * the receivers restoring the state (restore time × removed units' worth of workers), every kept worker pausing
 * for the rebalance, and the CPU to replay the moved partitions' input that arrived during pause + restore; twice
 * when the forecast wants the capacity back within the horizon (the state then moves back onto new workers).
 */
export function scaleInEconomics(input: ScaleInEconomicsInput): ScaleInEconomics {
  const restoreSeconds = input.victimStateBytes / Math.max(1, input.restoreBytesPerSecond);
  const pauseSeconds = input.rebalancePauseMs / 1000;
  const restoringUnitSeconds = restoreSeconds * input.removedUnits;
  const pauseUnitSeconds = pauseSeconds * input.keptUnits;
  const replayUnitSeconds = input.movedFraction * input.cpuUnitsAt100 * (pauseSeconds + restoreSeconds);
  const moves = input.roundTrip ? 2 : 1;
  return {
    savedUnitHours: (input.removedUnits * input.horizonMs) / 3_600_000,
    moveCostUnitHours: (moves * (restoringUnitSeconds + pauseUnitSeconds + replayUnitSeconds)) / 3600,
    restoreSeconds,
  };
}
