import { describe, expect, it } from 'vitest';
import { lagSeconds, rebalancePausedRecords, stepLag } from '../../../../autoscaler/simulator/lag-model.js';

describe('lag model', () => {
  it('grows the backlog by input − capacity when input exceeds capacity', () => {
    const s = stepLag(0, 1000, 800, 60);
    expect(s.backlogRecords).toBe(200 * 60);
    expect(s.processedRecords).toBe(800 * 60);
    expect(s.lagSeconds).toBeCloseTo(12, 6);
  });

  it('drains the backlog at the spare rate and never below zero', () => {
    const s = stepLag(30_000, 1000, 1500, 60);
    expect(s.backlogRecords).toBe(0);
    expect(s.processedRecords).toBe(30_000 + 60_000);
    const partial = stepLag(60_000, 1000, 1500, 60);
    expect(partial.backlogRecords).toBe(60_000 - 500 * 60);
  });

  it('loses the paused records of a rebalance from the step budget', () => {
    const paused = rebalancePausedRecords(250, 1000, 1000, 10);
    expect(paused).toBe(0.25 * 1000 * 10);
    const s = stepLag(0, 1000, 1000, 60, paused);
    expect(s.backlogRecords).toBe(paused);
  });

  it('expresses lag as seconds of input', () => {
    expect(lagSeconds(0, 100)).toBe(0);
    expect(lagSeconds(5000, 100)).toBe(50);
  });
});
