import { describe, expect, it } from 'vitest';
import { rateAt } from '../../../../infra/demo/bike-trace.js';
import { compareCounts, differencesByPartition } from '../../../../infra/demo/no-loss-check.js';
import { countEvents } from '../../../../infra/demo/run-demo.js';

describe('compareCounts (no-loss check)', () => {
  it('counts missing records as lost and extra ones as duplicated, per series and window', () => {
    const produced = new Map([
      ['s1|0', 5],
      ['s2|0', 3],
      ['s1|10000', 2],
    ]);
    const aggregated = new Map([
      ['s1|0', 5],
      ['s2|0', 1],
      ['s1|10000', 4],
      ['s9|0', 1],
    ]);
    expect(compareCounts(produced, aggregated)).toEqual({
      recordsAggregated: 11,
      lost: 2,
      duplicated: 3,
      windows: 4,
    });
  });

  it('reports 0/0 for an exact match', () => {
    const m = new Map([['a|0', 7]]);
    expect(compareCounts(m, new Map(m))).toMatchObject({ lost: 0, duplicated: 0, recordsAggregated: 7 });
  });
});

describe('differencesByPartition (where the no-loss check differs)', () => {
  it('groups lost and duplicated records by the partition of their series, with the windows they span', () => {
    const produced = new Map([
      ['r-s1|0', 5],
      ['r-s1|10000', 4],
      ['r-s2|0', 3],
      ['r-s3|20000', 1],
    ]);
    const aggregated = new Map([
      ['r-s1|0', 2],
      ['r-s1|10000', 1],
      ['r-s2|0', 3],
      ['r-s3|20000', 2],
      ['r-s5|30000', 4],
    ]);
    const partitionOf = (series: string) => Number(series.slice(3)) % 2;
    expect(differencesByPartition(produced, aggregated, partitionOf)).toEqual([
      { partition: 1, lost: 6, duplicated: 5, windows: 4, firstWindowMs: 0, lastWindowMs: 30000 },
    ]);
    expect(differencesByPartition(produced, new Map(produced), partitionOf)).toEqual([]);
  });
});

describe('rateAt (time-compressed trace)', () => {
  const c = { wallStartMs: 1000, traceStartMs: 0, msPerHour: 100, scale: 2 };
  const day = [10, 20, 40];
  it('scales hourly counts and interpolates between hours', () => {
    expect(rateAt(day, c, 1000)).toBe(20);
    expect(rateAt(day, c, 1150)).toBe(60);
  });
  it('loops the day and never goes before its start', () => {
    expect(rateAt(day, c, 1000 + 300)).toBe(20);
    expect(rateAt(day, c, 0)).toBe(20);
  });
});

describe('countEvents', () => {
  it('counts raised targets, completed drains and scale-in terminations', () => {
    const at = 0;
    expect(
      countEvents([
        { kind: 'set-target', atMs: at, totalUnits: 3, previousUnits: 1 },
        { kind: 'set-target', atMs: at, totalUnits: 3, previousUnits: 3 },
        { kind: 'terminated', atMs: at, how: 'drained', reason: 'scale-in' },
        { kind: 'terminated', atMs: at, how: 'drained', reason: 'interruption' },
        { kind: 'terminated', atMs: at, how: 'forced', reason: 'scale-in' },
      ]),
    ).toEqual({ scaleOuts: 1, scaleIns: 2, drains: 2 });
  });
});
