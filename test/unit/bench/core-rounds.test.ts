import { describe, expect, it } from 'vitest';
import { type CoreRound, totalOfRounds } from '../../../test/bench/core-bench.js';

const RECORDS = 12_000_000;

function roundOf(cpuSeconds: number, drainCpuSeconds: number): CoreRound {
  return {
    updatesPerSec: Math.round(RECORDS / cpuSeconds),
    cpuSeconds: Math.round(cpuSeconds * 100) / 100,
    seconds: cpuSeconds - 0.1,
    drainCpuSeconds,
    resultsEmitted: 2_000_000,
  };
}

describe('bench core rounds', () => {
  it('takes the rounds as one run: the rate from summed CPU, not a mean of the rates', () => {
    // 3 s, 3 s and a round slowed to 6 s (a drain under a full collection): 36M records in 12 s.
    const all = totalOfRounds([roundOf(3, 0.4), roundOf(6, 1.5), roundOf(3, 0.4)], RECORDS);
    expect(all.updatesPerSec).toBe(3_000_000); // the mean of the rates would say 3.33M
    expect(all.cpuSeconds).toBeCloseTo(12, 5);
    expect(all.seconds).toBeCloseTo(11.7, 5);
    expect(all.drainCpuSeconds).toBeCloseTo(2.3, 5);
    expect(all.resultsEmitted).toBe(6_000_000);
  });

  it('sums each round’s unrounded CPU, recovered from its rate', () => {
    const r = roundOf(3.3333333, 0.4);
    expect(r.cpuSeconds).toBe(3.33);
    expect(totalOfRounds([r, r, r], RECORDS).cpuSeconds).toBeCloseTo(10, 4);
    expect(totalOfRounds([r], RECORDS).updatesPerSec).toBe(r.updatesPerSec);
  });

  it('refuses no rounds', () => {
    expect(() => totalOfRounds([], RECORDS)).toThrow(RangeError);
  });
});
