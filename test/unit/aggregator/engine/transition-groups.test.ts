import { describe, expect, it } from 'vitest';
import type { DecodedRecord } from '../../../../aggregator/decode/decoder.js';
import {
  type EngineOutputs,
  PartitionEngine,
  type PartitionEngineOptions,
  TRANSITION_PART_ROWS,
} from '../../../../aggregator/engine/partition-engine.js';
import { pipelineSchema } from '../../../../aggregator/pipeline/pipeline-schema.js';
import type { Transition } from '../../../../aggregator/state-machine/state-machine-table.js';
import { drainBy, presenceMachine, rng } from './engine-fixtures.js';

const T0 = Date.UTC(2026, 0, 1);
const DEVICES = 12_000;

/** Devices go online on a report and offline after 2 minutes of silence. */
function options(sink: 's3' | 'cassandra'): PartitionEngineOptions {
  const pipeline = pipelineSchema.parse({
    name: 'presence',
    source: { topics: ['in'] },
    keyFields: ['device'],
    eventTimeField: 'ts',
    windows: ['1m', '10m'],
    allowedLatenessMs: 5_000,
    aggregates: [{ field: 'v', kinds: ['count'] }],
    sink: sink === 's3' ? { type: 's3', bucket: 'results' } : { type: 'cassandra', table: 't' },
    stateMachines: [presenceMachine(120_000)],
  });
  return { pipeline, topic: 'in', partition: 1 };
}

/**
 * 8 minutes of reports: every device in the first minute (12,000 go online, then time out together
 * two minutes later: a mass timeout of more than one part), then a fifth of them now and then.
 */
function records(): DecodedRecord[] {
  const r = rng(3);
  const out: DecodedRecord[] = [];
  const rec = (d: number, t: number): DecodedRecord => ({
    seriesKey: `dev-${d}`,
    keyValues: { device: `dev-${d}` },
    eventTimeMs: t,
    numbers: { v: 1 },
    strings: {},
    raw: {},
  });
  for (let d = 0; d < DEVICES; d++) out.push(rec(d, T0 + Math.floor((d / DEVICES) * 50_000)));
  for (let i = 0; i < 30_000; i++) {
    const t = T0 + 60_000 + Math.floor((i / 30_000) * 420_000);
    out.push(rec(Math.floor(r() * DEVICES * 0.2) * 5, t));
  }
  return out;
}

const input = records();

/** Feeds `input[from..to)`, taking outputs by calls of `maxRows` every 997 records. */
function feed(e: PartitionEngine, from: number, to: number, maxRows: number, calls: EngineOutputs[]): void {
  for (let i = from; i < to; i++) {
    e.process(input[i]!, i);
    if (i % 997 === 0) calls.push(...drainBy(e, maxRows));
  }
}

function run(sink: 's3' | 'cassandra', maxRows: number, cut?: number): EngineOutputs[] {
  const opts = options(sink);
  const calls: EngineOutputs[] = [];
  let e = new PartitionEngine(opts);
  feed(e, 0, cut ?? input.length, maxRows, calls);
  if (cut !== undefined) {
    const snap = e.snapshot();
    e.release();
    e = PartitionEngine.restore(opts, snap);
    expect(Buffer.from(e.snapshot()).equals(snap)).toBe(true);
    feed(e, cut, input.length, maxRows, calls);
  }
  calls.push(e.flush());
  return calls;
}

const transitionsOf = (calls: EngineOutputs[]): Transition[] => calls.flatMap((c) => c.transitions);
const plain = (t: Transition) => `${t.seriesKey}|${t.from}|${t.to}|${t.atMs}|${t.cause}`;

describe('a pipeline writing to S3 hands its transitions out in sealed parts', () => {
  const straight = run('cassandra', 50_000);
  const grouped = run('s3', 50_000);

  it('the same transitions in the same order, numbered, in whole parts ending at multiples of the part size or where a 1m window closed', () => {
    const all = transitionsOf(grouped);
    expect(all.map(plain)).toEqual(transitionsOf(straight).map(plain));
    expect(all.length).toBeGreaterThan(1.5 * DEVICES);
    all.forEach((t, i) => {
      expect(t.seq).toBe(i);
      expect(t.part!.from).toBeLessThanOrEqual(i);
      expect(t.part!.to).toBeGreaterThan(i);
    });
    const parts = [...new Map(all.map((t) => [t.part!.from, t.part!])).values()];
    let next = 0;
    for (const p of parts) {
      expect(p.from).toBe(next);
      expect(p.to - p.from).toBeLessThanOrEqual(TRANSITION_PART_ROWS);
      expect(all.filter((t) => t.part === p)).toHaveLength(p.to - p.from);
      next = p.to;
    }
    // The mass timeout (12,000 in one watermark step) spans parts split at a multiple of 8,192.
    expect(parts.some((p) => p.to % TRANSITION_PART_ROWS === 0)).toBe(true);
    // Far fewer objects than transitions: one per 1m window that saw some, at most.
    expect(parts.length).toBeLessThan(20);
    // Without grouping, transitions come out as they happen: some before the first window closed.
    const firstClose = grouped.findIndex((c) => c.results.length > 0);
    expect(transitionsOf(straight.slice(0, firstClose)).length).toBeGreaterThan(0);
    expect(transitionsOf(grouped.slice(0, firstClose))).toEqual([]);
  });

  it('each call hands out whole parts within its row limit (one at least), the same parts as one by one', () => {
    const calls = run('s3', 3000);
    // (The last call is the flush: no limit.)
    for (const c of calls.slice(0, -1)) {
      // Within the limit, or a single part (of rows or of transitions) that alone exceeds it.
      const parts = new Set([
        ...c.results.map((r) => `r${r.windowSizeMs}/${r.part}`),
        ...c.transitions.map((t) => `t${t.part!.from}`),
      ]);
      if (c.results.length + c.transitions.length > 3000) expect(parts.size).toBe(1);
    }
    expect(calls.some((c) => c.transitions.length > 0 && c.transitions.length < 3000)).toBe(true);
    const norm = (cs: EngineOutputs[]) =>
      transitionsOf(cs).map((t) => `${plain(t)}|${t.seq}|${t.part!.from}-${t.part!.to}`);
    expect(norm(calls)).toEqual(norm(grouped));
  });

  it('a restore anywhere hands out the same parts with the same numbers (an S3 object per part is rewritten identically)', () => {
    const expected = transitionsOf(grouped).map((t) => `${plain(t)}|${t.seq}|${t.part!.from}-${t.part!.to}`);
    // 12,400 and 12,900: the first 1m window has closed (sealing its transitions) since the last take.
    for (const cut of [5_000, 12_001, 12_400, 12_900, 20_000, 33_333]) {
      const got = transitionsOf(run('s3', 3000, cut)).map(
        (t) => `${plain(t)}|${t.seq}|${t.part!.from}-${t.part!.to}`,
      );
      expect(got).toEqual(expected);
    }
  });
});
