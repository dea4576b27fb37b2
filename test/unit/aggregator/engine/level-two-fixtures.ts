import { PartitionEngine, type WindowResult } from '../../../../aggregator/engine/partition-engine.js';
import { generate, pipeline } from './engine-fixtures.js';

export const level1 = pipeline({
  windows: ['1m'],
  allowedLatenessMs: 30_000,
  aggregates: [
    { field: 'temp', kinds: ['count', 'sum', 'min', 'max', 'mean', 'last', 'quantiles'] },
    { field: 'user', kinds: ['distinct'] },
  ],
  sink: { type: 'cassandra', table: 'l1' },
  nextLevel: { topic: 'by-site', keyFields: ['site'] },
});
export const level2 = pipeline({
  name: 'sites',
  source: { topics: ['by-site'], format: 'partial' },
  keyFields: ['site'],
  windows: ['5m', '10m'],
  allowedLatenessMs: 120_000,
  aggregates: level1.aggregates,
  sink: { type: 'cassandra', table: 'l2' },
});

/** Level-1 partials of 2 partitions, interleaved as an intermediate topic partition would see them. */
export function level1Partials(): Uint8Array[] {
  const input = generate({ n: 4000, keys: 30, minutes: 40, jitterMs: 5_000, partitions: 2, seed: 3 });
  const perPartition: WindowResult[][] = [0, 1].map((partition) => {
    const e = new PartitionEngine({ pipeline: level1, topic: 'in', partition });
    const out: WindowResult[] = [];
    input.forEach((g, i) => {
      if (g.partition !== partition) return;
      e.process(g.record, i);
      out.push(...e.drainClosed().results);
    });
    out.push(...e.flush().results);
    return out;
  });
  const merged: Uint8Array[] = [];
  const [a, b] = perPartition as [WindowResult[], WindowResult[]];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i]) merged.push(a[i]!.partial!);
    if (b[i]) merged.push(b[i]!.partial!);
  }
  return merged;
}
