import { describe, expect, it } from 'vitest';
import { TimeoutHeap } from '../../../../aggregator/state-machine/timeout-heap.js';

describe('timeout heap', () => {
  it('pops slots in key order through inserts, changes and removals (checked against a sort)', () => {
    const due = new Float64Array(500);
    const heap = new TimeoutHeap(
      (a, b) => (due[a] as number) < (due[b] as number) || (due[a] === due[b] && a < b),
      8,
    );
    heap.grow(500);
    const scheduled = new Set<number>();
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed % n;
    };
    for (let step = 0; step < 5000; step++) {
      const slot = rand(500);
      if (rand(4) === 0) {
        heap.remove(slot);
        scheduled.delete(slot);
      } else {
        due[slot] = rand(1000);
        heap.update(slot);
        scheduled.add(slot);
      }
    }
    expect(heap.size).toBe(scheduled.size);
    const expected = [...scheduled].sort((a, b) => (due[a] as number) - (due[b] as number) || a - b);
    const popped: number[] = [];
    for (let s = heap.peek(); s >= 0; s = heap.peek()) {
      popped.push(s);
      heap.remove(s);
    }
    expect(popped).toEqual(expected);
  });
});

describe('timeout heap bulk load', () => {
  it('heapify after unordered pushes pops in order', () => {
    const due = Float64Array.from({ length: 300 }, (_, i) => (i * 7919) % 1000);
    const heap = new TimeoutHeap(
      (a, b) => (due[a] as number) < (due[b] as number) || (due[a] === due[b] && a < b),
      300,
    );
    for (let s = 0; s < 300; s++) heap.pushUnordered(s);
    heap.heapify();
    heap.remove(5);
    const popped: number[] = [];
    for (let s = heap.peek(); s >= 0; s = heap.peek()) {
      popped.push(s);
      heap.remove(s);
    }
    const expected = [...Array(300).keys()]
      .filter((s) => s !== 5)
      .sort((a, b) => (due[a] as number) - (due[b] as number) || a - b);
    expect(popped).toEqual(expected);
  });
});
