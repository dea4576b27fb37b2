import { compileLayout } from '../../../../aggregator/aggregates/aggregate-layout.js';
import { ByteWriter } from '../../../../aggregator/codec/byte-io.js';
import type { FieldAggregateConfig } from '../../../../aggregator/pipeline/pipeline-schema.js';
import type { WindowTable } from '../../../../aggregator/store/window-table.js';
import { T0 } from '../engine/engine-fixtures.js';

/** Aggregates without sketches over three fields (rows the WebAssembly kernels take). */
export const rowAggregates = [
  { field: 'temp', kinds: ['count', 'sum', 'min', 'max', 'mean', 'last'] },
  { field: 'hum', kinds: ['max', 'last'] },
  { field: 'rssi', kinds: ['min'] },
] as FieldAggregateConfig[];
export const rowLayout = compileLayout(rowAggregates);

/** A table's snapshot bytes. */
export function snapshotOf(t: WindowTable): Uint8Array {
  const w = new ByteWriter();
  t.write(w);
  return w.finish();
}

/**
 * One random record's numbers and time: fields missing now and then, -0, NaN, and few distinct
 * times (ties on event time decided by the offset).
 */
export function randomRecord(r: () => number): { numbers: Record<string, number>; t: number } {
  const numbers: Record<string, number> = {};
  const pick = r();
  if (pick > 0.1) numbers['temp'] = pick > 0.95 ? -0 : Math.round((r() * 200 - 100) * 8) / 8;
  if (r() > 0.3) numbers['hum'] = r() > 0.97 ? Number.NaN : r() * 100;
  if (r() > 0.5) numbers['rssi'] = -Math.floor(r() * 90);
  return { numbers, t: T0 + Math.floor(r() * 20) * 1_000 };
}
