import { describe, expect, it } from 'vitest';
import {
  ByteReader,
  ByteWriter,
  CorruptStateError,
  joinBytes,
} from '../../../../aggregator/codec/byte-io.js';

/** Every kind of value the writer writes, in one buffer (43 bytes: a split point lands inside each). */
function sample(): Uint8Array {
  return new ByteWriter(8)
    .u8(0xab)
    .u32(0xdeadbeef)
    .i32(-123456789)
    .f64(-Math.PI)
    .str('héllo')
    .bytes(Uint8Array.of(9, 8, 7))
    .raw(Float64Array.of(1.5, -2.25), 16)
    .finish();
}

/** Reads {@link sample}'s values back: what a restore does. */
function readAll(r: ByteReader) {
  const out: unknown[] = [r.u8(), r.u32(), r.i32(), r.f64(), r.str(), [...r.bytes()]];
  const f = new Float64Array(2);
  r.rawInto(f, 16);
  out.push([...f], r.done());
  return out;
}

/** `bytes` cut at the given offsets (copies, so no part shares memory with the next). */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const edges = [0, ...at, bytes.length];
  return edges.slice(1).map((end, i) => bytes.slice(edges[i]!, end));
}

describe('ByteReader over consecutive parts', () => {
  const whole = sample();
  const expected = readAll(new ByteReader(whole, 'sample'));

  it('reads the same values wherever the parts are cut, empty parts included', () => {
    expect(expected).toEqual([
      0xab,
      0xdeadbeef,
      -123456789,
      -Math.PI,
      'héllo',
      [9, 8, 7],
      [1.5, -2.25],
      true,
    ]);
    for (let a = 0; a <= whole.length; a++) {
      for (const b of [a, a + 1, a + 5, whole.length]) {
        const parts = cut(whole, [a, Math.min(b, whole.length)]);
        expect(readAll(new ByteReader(parts, 'sample')), `cut at ${a} and ${b}`).toEqual(expected);
      }
    }
    // One byte per part.
    expect(readAll(new ByteReader(cut(whole, [...whole.keys()].slice(1)), 'sample'))).toEqual(expected);
  });

  it('given the parts (release), drops each from the array once read past, and reads the same values', () => {
    const parts = cut(whole, [5, 6, 20, 30]);
    const r = new ByteReader(parts, 'sample', { release: true });
    expect(r.u8()).toBe(0xab);
    expect(parts.map((p) => p.byteLength)).toEqual([5, 1, 14, 10, 20]);
    // The u32 ends part 0, the i32 straddles parts 1 and 2: both read past.
    expect([r.u32(), r.i32()]).toEqual([0xdeadbeef, -123456789]);
    expect(parts.map((p) => p.byteLength)).toEqual([0, 0, 14, 10, 20]);
    expect(readAll(new ByteReader(cut(whole, [5, 6, 20, 30]), 'sample', { release: true }))).toEqual(
      expected,
    );
    const held = cut(whole, [5, 6, 20, 30]);
    readAll(new ByteReader(held, 'sample'));
    expect(held.map((p) => p.byteLength)).toEqual([5, 1, 14, 10, 20]);
  });

  it('hands out a view of a part when a span lies in it, a copy when it straddles two', () => {
    const parts = cut(Uint8Array.of(1, 2, 3, 4, 5, 6), [4]);
    const r = new ByteReader(parts, 'spans');
    const inFirst = r.span(3);
    expect(inFirst.buffer).toBe(parts[0]!.buffer);
    const straddling = r.span(2);
    expect([...straddling]).toEqual([4, 5]);
    expect(straddling.buffer).not.toBe(parts[0]!.buffer);
    expect(straddling.buffer).not.toBe(parts[1]!.buffer);
    expect(r.u8()).toBe(6);
    expect(r.done()).toBe(true);
  });

  it('reports truncation at the position in the whole, not in the part', () => {
    const r = new ByteReader(cut(whole.subarray(0, 10), [3, 7]), 'short');
    expect(r.length).toBe(10);
    r.u8();
    r.u32();
    expect(() => r.f64()).toThrow(CorruptStateError);
    expect(() => r.f64()).toThrow('truncated at byte 5 (needs 8 more of 10)');
    expect(() => new ByteReader([], 'none').u8()).toThrow('truncated at byte 0 (needs 1 more of 0)');
  });

  it('joinBytes makes one buffer of the parts', () => {
    expect(Buffer.from(joinBytes(cut(whole, [1, 20, 20, 30]))).equals(whole)).toBe(true);
    expect(joinBytes(whole)).toBe(whole);
  });
});
