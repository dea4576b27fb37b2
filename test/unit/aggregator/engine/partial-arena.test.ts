import { describe, expect, it } from 'vitest';
import { PartialArena } from '../../../../aggregator/engine/partial-arena.js';
import { rng } from './engine-fixtures.js';

const bytesOf = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('PartialArena', () => {
  it('keeps every partial by offset across growth; a same-length replacement stays in place', () => {
    const arena = new PartialArena();
    const at = Array.from({ length: 500 }, (_, i) => arena.add(bytesOf(10 + (i % 7), i % 251)));
    expect(arena.capacity).toBeGreaterThanOrEqual(500 * (4 + 13));
    at.forEach((a, i) => {
      expect(arena.get(a)).toEqual(bytesOf(10 + (i % 7), i % 251));
    });
    const again = arena.replace(at[3]!, bytesOf(13, 99));
    expect(again).toBe(at[3]);
    expect(arena.get(again)).toEqual(bytesOf(13, 99));
    expect(arena.garbage).toBe(0);
  });

  it('appends a replacement of another length, counts the old copy as garbage, and compaction keeps only live copies', () => {
    const r = rng(4);
    const arena = new PartialArena();
    const live = new Map<number, { at: number; bytes: Uint8Array }>();
    for (let k = 0; k < 200; k++) {
      const b = bytesOf(5 + Math.floor(r() * 50), k);
      live.set(k, { at: arena.add(b), bytes: b });
    }
    let garbage = 0;
    for (let round = 0; round < 5; round++) {
      for (let k = 0; k < 200; k += 3) {
        const entry = live.get(k)!;
        const b = bytesOf(entry.bytes.length + 1, 200 + round);
        garbage += 4 + entry.bytes.length;
        live.set(k, { at: arena.replace(entry.at, b), bytes: b });
      }
    }
    expect(arena.garbage).toBe(garbage);
    const keys = [...live.keys()];
    const before = arena.capacity;
    arena.compact(
      keys.map((k) => live.get(k)!.at),
      (i, to) => {
        live.get(keys[i]!)!.at = to;
      },
    );
    expect(arena.garbage).toBe(0);
    expect(arena.capacity).toBeLessThan(before);
    for (const { at, bytes } of live.values()) expect(arena.get(at)).toEqual(bytes);
  });
});
