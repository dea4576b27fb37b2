import { describe, expect, it } from 'vitest';
import type { Transition } from '../../../../aggregator/state-machine/state-machine-table.js';
import { TransitionLog, type TransitionSource } from '../../../../aggregator/state-machine/transition-log.js';

/** A source naming its states s0, s1, … and the key's single key value after the machine. */
function source(machine: string): TransitionSource {
  return {
    transitionOf: (seriesKey, from, to, atMs, cause): Transition => ({
      machine,
      seriesKey,
      keyValues: { k: seriesKey },
      from: `s${from}`,
      to: `s${to}`,
      atMs,
      cause,
    }),
  };
}
const sources = [source('a'), source('b')];

function addRange(log: TransitionLog, from: number, to: number): void {
  for (let i = from; i < to; i++)
    log.add(i % 2, `key${i}`, i % 3, (i + 1) % 3, i * 1000, i % 5 === 0 ? 'timeout' : 'record');
}

function expected(from: number, to: number): Transition[] {
  const out: Transition[] = [];
  for (let i = from; i < to; i++) {
    out.push(
      sources[i % 2]!.transitionOf(
        `key${i}`,
        i % 3,
        (i + 1) % 3,
        i * 1000,
        i % 5 === 0 ? 'timeout' : 'record',
      ),
    );
  }
  return out;
}

describe('TransitionLog', () => {
  it('hands entries out oldest first, across growth and the moves that reuse taken room', () => {
    const log = new TransitionLog();
    const got: Transition[] = [];
    addRange(log, 0, 100); // grows past its first capacity
    got.push(...log.take(70, sources));
    addRange(log, 100, 150); // reaches the end with 70 taken of 128: moves down, no growth
    got.push(...log.take(7, sources));
    addRange(log, 150, 1000);
    expect(log.length).toBe(1000 - 77);
    expect(log.peek(3, sources)).toEqual(expected(77, 80));
    expect(log.length).toBe(1000 - 77);
    got.push(...log.take(Number.POSITIVE_INFINITY, sources));
    expect(got).toEqual(expected(0, 1000));
    expect(log.length).toBe(0);
    expect(log.take(10, sources)).toEqual([]);
  });

  it('costs ~23 bytes per waiting entry and shrinks back when emptied', () => {
    const empty = new TransitionLog().bytes();
    const log = new TransitionLog();
    addRange(log, 0, 100_000);
    const perEntry = (log.bytes() - empty) / 100_000;
    expect(perEntry).toBeGreaterThan(20);
    expect(perEntry).toBeLessThan(40);
    log.take(100_000, sources);
    expect(log.bytes()).toBe(empty);
  });
});
