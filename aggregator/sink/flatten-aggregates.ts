import type { FieldAggregates } from '../engine/partition-engine.js';

/**
 * One flat map per window for sinks that store `name → number`: `<field>.<kind>` for scalar
 * kinds and `<field>.p<q×100>` for quantiles (`latency.p99`, `latency.p99.9`). Keys are sorted
 * so the same window always serializes to the same bytes.
 */
export function flattenAggregates(aggregates: Record<string, FieldAggregates>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const field of Object.keys(aggregates).sort()) {
    const a = aggregates[field]!;
    for (const kind of ['count', 'sum', 'min', 'max', 'mean', 'last', 'distinct'] as const) {
      const v = a[kind];
      if (v !== undefined && Number.isFinite(v)) out[`${field}.${kind}`] = v;
    }
    for (const [q, v] of Object.entries(a.quantiles ?? {})) {
      if (Number.isFinite(v)) out[`${field}.p${formatQuantile(Number(q))}`] = v;
    }
  }
  return out;
}

function formatQuantile(q: number): string {
  return String(Math.round(q * 100_000) / 1000);
}
