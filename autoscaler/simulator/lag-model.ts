/** The backlog after one step and what was processed in it. */
export interface LagStep {
  backlogRecords: number;
  processedRecords: number;
  lagSeconds: number;
}

/**
 * One step of the lag model. Work available = backlog + input × dt; the fleet processes up to
 * capacity × dt minus the records it could not process while partitions were paused; the rest
 * stays as backlog. So the backlog grows when input exceeds capacity and drains at the spare rate.
 * Lag in seconds = backlog / input rate (how far behind the consumer is at the current rate).
 */
export function stepLag(
  backlogRecords: number,
  inputRate: number,
  capacityRate: number,
  stepSeconds: number,
  pausedRecords = 0,
): LagStep {
  const work = backlogRecords + inputRate * stepSeconds;
  const budget = Math.max(0, capacityRate * stepSeconds - pausedRecords);
  const processedRecords = Math.min(work, budget);
  const backlog = work - processedRecords;
  return {
    backlogRecords: backlog,
    processedRecords,
    lagSeconds: lagSeconds(backlog, inputRate),
  };
}

/** Backlog expressed as seconds of input; a backlog with no input counts as one record/s. */
export function lagSeconds(backlogRecords: number, inputRate: number): number {
  if (backlogRecords <= 0) return 0;
  return backlogRecords / Math.max(inputRate, 1);
}

/**
 * Records not processed because of a rebalance: the moved partitions (their share of capacity)
 * stop for `pauseSeconds`, so that share of the input waits that long.
 */
export function rebalancePausedRecords(
  movedRate: number,
  totalRate: number,
  inputRate: number,
  pauseSeconds: number,
): number {
  if (movedRate <= 0 || totalRate <= 0) return 0;
  return Math.min(1, movedRate / totalRate) * inputRate * pauseSeconds;
}
