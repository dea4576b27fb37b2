import type { DecodedRecord } from '../../../../aggregator/decode/decoder.js';
import { seriesKeyOf } from '../../../../aggregator/decode/series-key.js';
import type {
  EngineOutputs,
  PartitionEngine,
  WindowResult,
} from '../../../../aggregator/engine/partition-engine.js';
import { type PipelineInput, pipelineSchema } from '../../../../aggregator/pipeline/pipeline-schema.js';

export const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

/** A device goes online on any report and offline after `silenceMs` of event-time silence. */
export function presenceMachine(silenceMs: number) {
  return {
    name: 'presence',
    states: ['offline', 'online'],
    initial: 'offline',
    transitions: [{ from: 'offline', to: 'online' }],
    timeouts: [{ state: 'online', afterMs: silenceMs, to: 'offline' }],
  };
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pipeline(overrides: Partial<PipelineInput> = {}) {
  return pipelineSchema.parse({
    name: 'metrics',
    source: { topics: ['in'] },
    keyFields: ['site', 'device'],
    eventTimeField: 'ts',
    windows: ['1m', '5m'],
    allowedLatenessMs: 10_000,
    aggregates: [
      {
        field: 'temp',
        kinds: ['count', 'sum', 'min', 'max', 'mean', 'last', 'quantiles'],
        quantiles: [0.5, 0.9, 0.99],
      },
      { field: 'user', kinds: ['distinct'], hllPrecision: 12 },
    ],
    sink: { type: 'cassandra', table: 'results' },
    ...overrides,
  });
}

export interface GenRecord {
  record: DecodedRecord;
  partition: number;
}

/**
 * Records for `keys` devices on 3 sites over `minutes` minutes of event time, with out-of-order
 * jitter up to ±jitterMs (some records beyond the allowed lateness) and integer-valued temps
 * (so sums are exact in any order). Partition = device index mod partitions.
 */
export function generate(opts: {
  n: number;
  keys: number;
  minutes: number;
  jitterMs: number;
  partitions: number;
  seed: number;
}): GenRecord[] {
  const r = rng(opts.seed);
  const out: GenRecord[] = [];
  for (let i = 0; i < opts.n; i++) {
    const dev = Math.floor(r() * r() * opts.keys); // skewed: low device numbers are hot
    const site = `s${dev % 3}`;
    const device = dev % 7 === 0 ? `d|${dev}\\x` : `d${dev}`; // some keys need escaping
    const base = T0 + Math.floor((i / opts.n) * opts.minutes * 60_000);
    const ts = base + Math.floor((r() * 2 - 1) * opts.jitterMs);
    const numbers: Record<string, number> = {};
    if (r() > 0.05) numbers['temp'] = Math.floor(r() * 2000) - 500; // negatives, zeros, and 5 % missing
    const strings: Record<string, string> = {};
    if (r() > 0.1) strings['user'] = `u${Math.floor(r() * 300)}`;
    const keyValues = { site, device };
    out.push({
      partition: dev % opts.partitions,
      record: {
        seriesKey: seriesKeyOf([site, device]),
        keyValues,
        eventTimeMs: ts,
        numbers,
        strings,
        raw: { site, device, ts, ...numbers },
      },
    });
  }
  return out;
}

/** Takes every output by calls of at most `maxRows` rows; returns each call's outputs. */
export function drainBy(e: PartitionEngine, maxRows: number): EngineOutputs[] {
  const calls: EngineOutputs[] = [];
  for (;;) {
    const out = e.drainClosed(maxRows);
    calls.push(out);
    if (!out.more) return calls;
  }
}

/** Each {@link drainBy} call's window results. */
export function resultsBy(e: PartitionEngine, maxRows: number): WindowResult[][] {
  return drainBy(e, maxRows).map((o) => o.results);
}
