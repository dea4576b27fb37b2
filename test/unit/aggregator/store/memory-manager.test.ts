import { describe, expect, it } from 'vitest';
import { MemoryManager } from '../../../../aggregator/store/memory-manager.js';

describe('MemoryManager', () => {
  it('accounts per pipeline and pauses above high water until usage is under low water', () => {
    const m = new MemoryManager({ budgetBytes: 1000, highWater: 0.9, lowWater: 0.5 });
    const a = m.account('a');
    const b = m.account('b');
    a.charge(600, 10);
    b.charge(200, 5);
    expect(m.report()).toEqual({
      usedBytes: 800,
      limitBytes: 1000,
      liveSeries: 15,
      byPipeline: { a: 600, b: 200 },
      pressure: 'ok',
    });
    b.charge(150, 0);
    expect(m.pressure()).toBe('pause');
    a.charge(-300, -5); // 650: between the marks, still paused
    expect(m.pressure()).toBe('pause');
    a.charge(-200, 0); // 450 < 500
    expect(m.pressure()).toBe('ok');
    b.close();
    b.close();
    expect(m.report().byPipeline).toEqual({ a: 100, b: 0 });
    expect(m.liveSeries()).toBe(5);
    b.charge(999, 1); // a closed account charges nothing
    expect(m.usedBytes()).toBe(100);
  });

  it('refuses water marks in the wrong order', () => {
    expect(() => new MemoryManager({ budgetBytes: 1, highWater: 0.5, lowWater: 0.6 })).toThrow(
      /lowWater 0.6 must be below highWater 0.5/,
    );
  });
});
