import type { FieldAggregates } from '../engine/partition-engine.js';
import type { FieldAggregateConfig } from '../pipeline/pipeline-schema.js';
import { DDSketch } from './dd-sketch.js';
import { HyperLogLog } from './hyper-log-log.js';

/** What storage one aggregated field needs, compiled once from the pipeline config. */
export interface FieldLayout {
  name: string;
  /** Reads `record.numbers[name]` (any kind other than `distinct`). */
  numeric: boolean;
  count: boolean;
  sum: boolean;
  min: boolean;
  max: boolean;
  mean: boolean;
  last: boolean;
  quantiles: { q: number[]; relativeAccuracy: number } | null;
  /** HyperLogLog precision when `distinct` is declared (reads `record.strings[name]`). */
  distinct: number | null;
}

export function compileLayout(aggregates: readonly FieldAggregateConfig[]): FieldLayout[] {
  return aggregates.map((a) => {
    const k = new Set(a.kinds);
    return {
      name: internalized(a.field),
      numeric: a.kinds.some((kind) => kind !== 'distinct'),
      count: k.has('count'),
      sum: k.has('sum'),
      min: k.has('min'),
      max: k.has('max'),
      mean: k.has('mean'),
      last: k.has('last'),
      quantiles: k.has('quantiles') ? { q: [...a.quantiles], relativeAccuracy: a.relativeAccuracy } : null,
      distinct: k.has('distinct') ? a.hllPrecision : null,
    };
  });
}

/**
 * The same string as V8's internalized copy (the one property keys use). The engine reads
 * `record.numbers[name]` on every record; with a name parsed from a config file (not
 * internalized), each keyed load would first look the name up in the string table.
 */
function internalized(name: string): string {
  return Object.keys({ [name]: 0 })[0] ?? name;
}

/**
 * The mergeable state of one field over one window. Every kind is derivable from it, and two
 * states merge exactly (count, sum, min, max, last) or as their sketches do.
 */
export interface FieldState {
  count: number;
  sum: number;
  min: number;
  max: number;
  lastValue: number;
  lastTimeMs: number;
  /** Offset of the record that set `last` (tie-break on equal event times). */
  lastOffset: number;
  sketch: DDSketch | null;
  hll: HyperLogLog | null;
}

export function emptyFieldState(layout: FieldLayout): FieldState {
  const s = blankFieldState();
  if (layout.quantiles) s.sketch = new DDSketch(layout.quantiles.relativeAccuracy);
  if (layout.distinct !== null) s.hll = new HyperLogLog(layout.distinct);
  return s;
}

/** An empty state without sketches (every state has this one shape). */
export function blankFieldState(): FieldState {
  return {
    count: 0,
    sum: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    lastValue: Number.NaN,
    lastTimeMs: Number.NEGATIVE_INFINITY,
    lastOffset: -1,
    sketch: null,
    hll: null,
  };
}

/** True when (time, offset) of `b` wins `last` over `a`: later event time, then the greater offset. */
export function laterThan(bTime: number, bOffset: number, aTime: number, aOffset: number): boolean {
  return bTime > aTime || (bTime === aTime && bOffset > aOffset);
}

/** Merges `from` into `into` (same layout). Order-independent. */
export function mergeFieldState(into: FieldState, from: FieldState): void {
  into.count += from.count;
  into.sum += from.sum;
  if (from.min < into.min) into.min = from.min;
  if (from.max > into.max) into.max = from.max;
  if (
    from.count > 0 &&
    (laterThan(from.lastTimeMs, from.lastOffset, into.lastTimeMs, into.lastOffset) ||
      // Full tie (different origins): the greater value, so the merge stays commutative.
      (from.lastTimeMs === into.lastTimeMs &&
        from.lastOffset === into.lastOffset &&
        from.lastValue > into.lastValue))
  ) {
    into.lastValue = from.lastValue;
    into.lastTimeMs = from.lastTimeMs;
    into.lastOffset = from.lastOffset;
  }
  if (from.sketch) {
    if (into.sketch) into.sketch.merge(from.sketch);
    else {
      into.sketch = new DDSketch(from.sketch.relativeAccuracy);
      into.sketch.merge(from.sketch);
    }
  }
  if (from.hll) {
    if (!into.hll) into.hll = new HyperLogLog(from.hll.precision);
    into.hll.merge(from.hll);
  }
}

/** Quantile keys as users write them: 0.5 → "0.5", 0.99 → "0.99". */
export function quantileKey(q: number): string {
  return String(q);
}

/** The declared kinds of one field, finished from its state. */
export function finishField(layout: FieldLayout, s: FieldState): FieldAggregates {
  const out: FieldAggregates = {};
  const has = s.count > 0;
  if (layout.count) out.count = s.count;
  if (layout.sum) out.sum = s.sum;
  if (has) {
    if (layout.min) out.min = s.min;
    if (layout.max) out.max = s.max;
    if (layout.mean) out.mean = s.sum / s.count;
    if (layout.last) out.last = s.lastValue;
    if (layout.quantiles && s.sketch) {
      const qs: Record<string, number> = {};
      for (const q of layout.quantiles.q) qs[quantileKey(q)] = s.sketch.quantile(q);
      out.quantiles = qs;
    }
  }
  if (layout.distinct !== null) out.distinct = s.hll ? Math.round(s.hll.estimate()) : 0;
  return out;
}
