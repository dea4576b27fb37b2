import { ALL_STREAMS, type CapacityModel } from '../plan/plan-types.js';
import type { FleetSnapshot } from '../ports/fleet-provider.js';
import type { MetricsSnapshot } from '../ports/metrics-source.js';
import { pushBounded, quantile, type WeightedSample, weightedMedian } from './robust-stats.js';

/** What the learner keeps: bounded windows of samples (plain data, so it can be saved and logged). */
export interface LearnerState {
  /** `type|stream` → CPU seconds per record, one sample per worker-window, weighted by records. */
  cpuPerRecord: Record<string, WeightedSample[]>;
  /** Bytes per live series, one sample per snapshot, weighted by series. */
  bytesPerSeries: WeightedSample[];
  /** Launch → ready, ms, one sample per instance. */
  launchToReadyMs: number[];
  restoreMs: number[];
  /** Instances whose launch → ready was already sampled. */
  seenReady: string[];
}

/** Tuning of the learner (defaults suit a 30 s loop over 5-minute windows). */
export interface LearnerOptions {
  /** Samples kept per window. */
  maxSamples: number;
  /** A worker-window with fewer records says too little about the per-record cost. */
  minRecordsPerSample: number;
  /** Quantile of lead-time samples used (conservative: a high one). */
  leadTimeQuantile: number;
}

export const defaultLearnerOptions: LearnerOptions = {
  maxSamples: 200,
  minRecordsPerSample: 1000,
  leadTimeQuantile: 0.9,
};

export function emptyLearnerState(): LearnerState {
  return { cpuPerRecord: {}, bytesPerSeries: [], launchToReadyMs: [], restoreMs: [], seenReady: [] };
}

/**
 * Folds one metrics snapshot (and the fleet, for launch → ready times) into the learner's state. Pure: returns a
 * new state. Per instance type and stream, CPU seconds per record = busy CPU seconds / records of a worker-window
 * (as Mist tracked CPU per stream per instance type); the model later takes the records-weighted median.
 */
export function learn(
  state: LearnerState,
  metrics: MetricsSnapshot | undefined,
  fleet: FleetSnapshot | undefined,
  options: LearnerOptions = defaultLearnerOptions,
): LearnerState {
  const next: LearnerState = {
    cpuPerRecord: { ...state.cpuPerRecord },
    bytesPerSeries: state.bytesPerSeries,
    launchToReadyMs: state.launchToReadyMs,
    restoreMs: state.restoreMs,
    seenReady: state.seenReady,
  };
  const add = (key: string, sample: WeightedSample) => {
    next.cpuPerRecord[key] = pushBounded(next.cpuPerRecord[key] ?? [], sample, options.maxSamples);
  };
  const seen = new Set(state.seenReady);
  let stateBytes = 0;
  let series = 0;
  for (const w of metrics?.workers ?? []) {
    let records = 0;
    let streamBusy = 0;
    for (const s of w.streams) {
      records += s.records;
      streamBusy += s.busyCpuSeconds;
      if (s.records >= options.minRecordsPerSample && s.busyCpuSeconds > 0) {
        add(`${w.instanceType}|${s.stream}`, { value: s.busyCpuSeconds / s.records, weight: s.records });
      }
    }
    // All streams together, including the worker's overheads (checkpoints, GC) that no stream reports.
    const busy = Math.max(w.busyCpuSeconds, streamBusy);
    if (records >= options.minRecordsPerSample && busy > 0) {
      add(`${w.instanceType}|${ALL_STREAMS}`, { value: busy / records, weight: records });
    }
    stateBytes += w.stateBytes;
    series += w.liveSeries;
    if (w.restoreMs !== undefined && !seen.has(`restore:${w.instanceId}`)) {
      next.restoreMs = pushBounded(next.restoreMs, w.restoreMs, options.maxSamples);
      seen.add(`restore:${w.instanceId}`);
    }
    if (w.launchToReadyMs !== undefined && !seen.has(w.instanceId)) {
      next.launchToReadyMs = pushBounded(next.launchToReadyMs, w.launchToReadyMs, options.maxSamples);
      seen.add(w.instanceId);
    }
  }
  if (series > 0 && stateBytes > 0) {
    next.bytesPerSeries = pushBounded(
      next.bytesPerSeries,
      { value: stateBytes / series, weight: series },
      options.maxSamples,
    );
  }
  for (const i of fleet?.instances ?? []) {
    if (i.readyTimeMs === undefined || seen.has(i.instanceId)) continue;
    next.launchToReadyMs = pushBounded(
      next.launchToReadyMs,
      i.readyTimeMs - i.launchTimeMs,
      options.maxSamples,
    );
    seen.add(i.instanceId);
  }
  // Forget instances no longer in the fleet so the seen-list stays bounded.
  const present = fleet ? new Set(fleet.instances.map((i) => i.instanceId)) : undefined;
  next.seenReady = [...seen]
    .filter((id) => present === undefined || present.has(id.replace(/^restore:/, '')))
    .slice(-10_000);
  return next;
}

/** The capacity model the planner uses, from what has been learned so far (empty parts are left out). */
export function capacityModelOf(
  state: LearnerState,
  options: LearnerOptions = defaultLearnerOptions,
): CapacityModel {
  const cpu: Record<string, Record<string, number>> = {};
  for (const [key, samples] of Object.entries(state.cpuPerRecord)) {
    const bar = key.lastIndexOf('|');
    const value = weightedMedian(samples);
    if (value === undefined) continue;
    const type = key.slice(0, bar);
    cpu[type] = { ...(cpu[type] ?? {}), [key.slice(bar + 1)]: value };
  }
  const model: CapacityModel = { cpuSecondsPerRecord: cpu };
  const bps = weightedMedian(state.bytesPerSeries);
  if (bps !== undefined) model.bytesPerSeries = bps;
  const ready = quantile(state.launchToReadyMs, options.leadTimeQuantile);
  const restore = quantile(state.restoreMs, options.leadTimeQuantile);
  if (ready !== undefined || restore !== undefined) {
    // "Ready" includes the restore, so boot + join is what is left of launch → ready.
    model.leadTime = {
      ...(ready !== undefined ? { bootMs: Math.max(0, ready - (restore ?? 0)), joinMs: 0 } : {}),
      ...(restore !== undefined ? { restoreMs: restore } : {}),
    };
  }
  return model;
}

/** Merges a learned model over a configured one (learned values win where present). */
export function mergeCapacityModels(configured: CapacityModel, learned: CapacityModel): CapacityModel {
  const cpu: Record<string, Record<string, number>> = {};
  for (const [type, perStream] of Object.entries(configured.cpuSecondsPerRecord))
    cpu[type] = { ...perStream };
  for (const [type, perStream] of Object.entries(learned.cpuSecondsPerRecord))
    cpu[type] = { ...(cpu[type] ?? {}), ...perStream };
  return {
    ...configured,
    ...learned,
    cpuSecondsPerRecord: cpu,
    leadTime: { ...(configured.leadTime ?? {}), ...(learned.leadTime ?? {}) },
  };
}
