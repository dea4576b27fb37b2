import { describe, expect, it } from 'vitest';
import { BATCH, InputStream, keyNumber, writeKey, writeKeyWords } from '../../bench/core-input.js';

describe('bench core input keys', () => {
  it('writes dev-<number> as String() would, for numbers of every length', () => {
    const b = Buffer.alloc(16);
    // 0 → 0; 1 → 2654435761 (10 digits); others chosen for short numbers and inner zeros.
    const ks = [0, 1, 2, 3, 999_999, 123_457];
    for (let k = 0; k < 200_000; k += 997) ks.push(k);
    const lengths = new Set<number>();
    for (const k of ks) {
      const end = writeKey(b, 0, k);
      const expected = `dev-${keyNumber(k)}`;
      expect(b.toString('latin1', 0, end)).toBe(expected);
      lengths.add(expected.length);
    }
    expect(lengths.size).toBeGreaterThan(1);
  });

  it('computes the key number exactly, as the remainder of the exact product', () => {
    const m = 4_294_967_291n;
    for (const k of [0, 1, 2, 1_617, 999_999, 1_000_000, 3_393_000, 3_394_000, 5_000_000, 123_456_789]) {
      const exact = (BigInt(k) * 2_654_435_761n) % m;
      // Past 2^53 the product is rounded first (as the bench always computed it).
      const want = k * 2_654_435_761 < 2 ** 53 ? Number(exact) : (k * 2_654_435_761) % 4_294_967_291;
      expect(keyNumber(k)).toBe(want);
    }
    for (let k = 0; k < 3_000_000; k += 7) {
      const n = keyNumber(k);
      if (n !== Number((BigInt(k) * 2_654_435_761n) % m)) expect.fail(`key ${k}: ${n}`);
    }
  });

  it('writes every five-digit part as String() would', () => {
    // Key k's number is 100000 × hi + lo: 300000 keys give nearly every lo and hi, and numbers
    // below 100000 (no hi) too.
    const b = Buffer.alloc(16);
    for (let k = 0; k < 300_000; k++) {
      const n = keyNumber(k);
      const s = b.toString('latin1', 0, writeKey(b, 0, k));
      if (s !== `dev-${n}`) expect.fail(`key ${k}: ${s}`);
    }
  });

  it('picks key (xorshift32 value mod keys), as the remainder operator would', () => {
    for (const keys of [7, 1_000, 1_000_000, 3_000_000_000]) {
      const input = new InputStream(keys, 6, 0, 0);
      let x = 0x2545f491;
      for (let i = 0; i < 20_000; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        const want = `dev-${keyNumber((x >>> 0) % keys)}`;
        const got = input.fill(i).seriesKey;
        if (got !== want) expect.fail(`record ${i} of ${keys} keys: ${got}, not ${want}`);
      }
    }
  });

  it('pads the low five digits with zeros when a high part precedes them', () => {
    // keyNumber(k) = 100000 × hi + lo with lo < 10000 needs its zeros kept.
    let found = 0;
    const b = Buffer.alloc(16);
    for (let k = 0; k < 2_000_000 && found < 20; k++) {
      const n = keyNumber(k);
      if (n >= 100_000 && n % 100_000 < 10_000) {
        found++;
        expect(b.toString('latin1', 0, writeKey(b, 0, k))).toBe(`dev-${n}`);
      }
    }
    expect(found).toBe(20);
  });

  it('writes dev-<n> as words, as String() would, for numbers of every length', () => {
    const words = new Int32Array(4);
    const got = Buffer.from(words.buffer);
    const ns = [
      0, 1, 9, 10, 99, 100, 9_999, 10_000, 99_999, 100_000, 10_000_000, 99_999_999, 100_000_000, 999_999_999,
      1_000_000_000, 4_294_967_290,
    ];
    for (let n = 7; n < 2 ** 32; n = n * 3 + 1) ns.push(n, n - 1);
    for (let k = 0; k < 200_000; k++) ns.push(keyNumber(k));
    for (const n of ns) {
      words.fill(-1);
      const length = writeKeyWords(words, 0, n);
      const want = `dev-${n}`;
      if (length !== want.length || got.toString('latin1', 0, length) !== want)
        expect.fail(`${n}: ${got.toString('latin1', 0, length)} (${length} bytes)`);
    }
  });

  it('fills a batch with the records fill makes one by one', () => {
    for (const keys of [7, 1_000_000, 3_000_000_000]) {
      const batched = new InputStream(keys, 6, 2_000, Date.UTC(2026, 0, 1));
      const single = new InputStream(keys, 6, 2_000, Date.UTC(2026, 0, 1));
      for (let i = 0; i < 20_000; ) {
        // Batches of every size up to BATCH, so records past a short batch's end are left as they were.
        const n = 1 + ((i * 7) % BATCH);
        const batch = batched.fillBatch(i, n);
        for (let j = 0; j < n; j++) {
          const want = single.fill(i + j);
          const got = batch[j]!;
          const g = [
            got.seriesKey,
            got.keyEnd - got.keyStart,
            got.eventTimeMs,
            got.numbers['value'],
            batched.offsets[j],
          ];
          const w = [want.seriesKey, want.seriesKey.length, want.eventTimeMs, want.numbers['value'], i + j];
          if (g.join() !== w.join())
            expect.fail(`record ${i + j} of ${keys} keys: ${g.join()}, not ${w.join()}`);
        }
        i += n;
      }
    }
  });
});
