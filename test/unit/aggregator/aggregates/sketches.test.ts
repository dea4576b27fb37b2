import { describe, expect, it } from 'vitest';
import { DDSketch } from '../../../../aggregator/aggregates/dd-sketch.js';
import { HyperLogLog } from '../../../../aggregator/aggregates/hyper-log-log.js';
import { ByteReader, ByteWriter } from '../../../../aggregator/codec/byte-io.js';
import { rng } from '../engine/engine-fixtures.js';

function roundTrip<T>(write: (w: ByteWriter) => void, read: (r: ByteReader) => T): T {
  const w = new ByteWriter(16);
  write(w);
  const r = new ByteReader(w.finish(), 'test');
  const out = read(r);
  expect(r.done()).toBe(true);
  return out;
}

describe('DDSketch', () => {
  const r = rng(1);
  // Heavy-tailed values over 8 orders of magnitude, negatives and exact zeros.
  const values = Array.from({ length: 20_000 }, (_, i) =>
    i % 10 === 0 ? 0 : (i % 7 === 0 ? -1 : 1) * Math.exp(r() * 18 - 6),
  );
  const sorted = [...values].sort((a, b) => a - b);

  it.each([0.01, 0.02, 0.05])(
    'every quantile is within relative accuracy %f of the exact order statistic',
    (alpha) => {
      const s = new DDSketch(alpha);
      for (const v of values) s.add(v);
      expect(s.count).toBe(values.length);
      for (const q of [0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1]) {
        const exact = sorted[Math.floor(q * (sorted.length - 1))]!;
        expect(Math.abs(s.quantile(q) - exact)).toBeLessThanOrEqual(alpha * Math.abs(exact) + 1e-12);
      }
    },
  );

  it('merge equals the sketch of the union, in any grouping and order', () => {
    const parts = [0, 1, 2].map(() => new DDSketch(0.01));
    values.forEach((v, i) => {
      parts[i % 3]!.add(v);
    });
    const whole = new DDSketch(0.01);
    for (const v of values) whole.add(v);
    const ab_c = new DDSketch(0.01);
    ab_c.merge(parts[0]!);
    ab_c.merge(parts[1]!);
    ab_c.merge(parts[2]!);
    const c_ba = new DDSketch(0.01);
    c_ba.merge(parts[2]!);
    const ba = new DDSketch(0.01);
    ba.merge(parts[1]!);
    ba.merge(parts[0]!);
    c_ba.merge(ba);
    for (const q of [0, 0.3, 0.5, 0.95, 1]) {
      expect(ab_c.quantile(q)).toBe(whole.quantile(q));
      expect(c_ba.quantile(q)).toBe(whole.quantile(q));
    }
    expect(() => whole.merge(new DDSketch(0.02))).toThrow(/relative accuracy/);
  });

  it('serializes and restores exactly; an empty sketch reports NaN', () => {
    const s = new DDSketch(0.01);
    for (const v of values.slice(0, 500)) s.add(v);
    const back = roundTrip(
      (w) => s.write(w),
      (rd) => DDSketch.read(rd),
    );
    for (const q of [0, 0.5, 0.99, 1]) expect(back.quantile(q)).toBe(s.quantile(q));
    expect(new DDSketch().quantile(0.5)).toBeNaN();
  });
});

describe('HyperLogLog', () => {
  it.each([10, 1_000, 50_000])('estimates %i distinct values within 3 standard errors (p = 12)', (n) => {
    const h = new HyperLogLog(12);
    for (let i = 0; i < n; i++) {
      h.add(`user-${i}`);
      h.add(`user-${i}`); // duplicates do not count
    }
    const stdErr = 1.04 / Math.sqrt(4096);
    expect(Math.abs(h.estimate() - n)).toBeLessThanOrEqual(Math.max(1, 3 * stdErr * n));
  });

  it('merge is the register-wise max: equal to the union, commutative, idempotent, across sparse and dense', () => {
    const a = new HyperLogLog(12);
    const b = new HyperLogLog(12);
    const union = new HyperLogLog(12);
    for (let i = 0; i < 20_000; i++) {
      a.add(`v${i}`);
      union.add(`v${i}`);
    }
    for (let i = 0; i < 30; i++) {
      b.add(`w${i}`); // stays sparse
      union.add(`w${i}`);
    }
    const ab = new HyperLogLog(12);
    ab.merge(a);
    ab.merge(b);
    const ba = new HyperLogLog(12);
    ba.merge(b);
    ba.merge(a);
    ba.merge(a);
    expect(ab.estimate()).toBe(union.estimate());
    expect(ba.estimate()).toBe(union.estimate());
    expect(b.bytes()).toBeLessThan(1000);
    expect(() => a.merge(new HyperLogLog(10))).toThrow(/precision/);
  });

  it('serializes sparse and dense sketches exactly', () => {
    for (const n of [5, 5000]) {
      const h = new HyperLogLog(11);
      for (let i = 0; i < n; i++) h.add(String(i));
      expect(
        roundTrip(
          (w) => h.write(w),
          (rd) => HyperLogLog.read(rd),
        ).estimate(),
      ).toBe(h.estimate());
    }
  });
});
