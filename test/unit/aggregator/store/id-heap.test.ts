import { describe, expect, it } from 'vitest';
import { IdHeap } from '../../../../aggregator/store/id-heap.js';
import { rng } from '../engine/engine-fixtures.js';

describe('IdHeap', () => {
  it('hands out the lowest id held, whatever the order ids came in', () => {
    const h = new IdHeap();
    const model = new Set<number>();
    const r = rng(3);
    for (let step = 0; step < 20_000; step++) {
      if (r() < 0.55 || model.size === 0) {
        const id = Math.floor(r() * 5000);
        if (model.has(id)) continue;
        h.push(id);
        model.add(id);
      } else {
        const lowest = Math.min(...model);
        expect(h.peek()).toBe(lowest);
        expect(h.popMin()).toBe(lowest);
        model.delete(lowest);
      }
      expect(h.size()).toBe(model.size);
    }
    expect(h.toArray().sort((a, b) => a - b)).toEqual([...model].sort((a, b) => a - b));
  });

  it('builds from a list and keeps only the ids below a limit, giving back room', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 10_000);
    const h = IdHeap.of(ids);
    const before = h.bytes();
    h.keepBelow(100);
    expect(h.size()).toBe(100);
    expect(h.bytes()).toBeLessThan(before / 10);
    const out: number[] = [];
    while (h.size() > 0) out.push(h.popMin());
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
