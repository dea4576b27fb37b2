import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../../aggregator/codec/byte-io.js';

const utf8 = new TextEncoder();

describe('ByteWriter.str', () => {
  const strings = [
    '',
    'dev-42',
    'site|floor\\3',
    'café',
    'Zürich → 東京',
    '📡 sensor 🛰️',
    'lone \ud800 surrogate',
    'x'.repeat(5000),
    `${'a'.repeat(3000)}é`,
  ];

  it('writes the length-prefixed UTF-8 of TextEncoder, ASCII or not, across buffer growth', () => {
    const w = new ByteWriter(8);
    for (const s of strings) w.str(s);
    const expected: number[] = [];
    for (const s of strings) {
      const b = utf8.encode(s);
      expected.push(b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff, b.length >>> 24, ...b);
    }
    expect([...w.finish()]).toEqual(expected);
    const r = new ByteReader(w.finish(), 'test');
    for (const s of strings) expect(r.str()).toBe(s.replace('\ud800', '\ufffd'));
  });

  it('a reset writer starts over, and copy() is independent of later writes', () => {
    const w = new ByteWriter(16);
    const first = w.str('first').copy();
    const second = w.reset().str('second').copy();
    expect(new ByteReader(first, 'test').str()).toBe('first');
    expect(new ByteReader(second, 'test').str()).toBe('second');
    w.reset().str('overwritten');
    expect(new ByteReader(first, 'test').str()).toBe('first');
  });
});
