import { describe, expect, it } from 'vitest';
import { latin1String, type SliceableBuffer } from '../../../../aggregator/codec/latin1-string.js';

describe('latin1String', () => {
  // Every byte value, at every offset and every length the short path covers and beyond it.
  const bytes = Buffer.alloc(300) as SliceableBuffer;
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 151 + 7) & 0xff;

  it('is the latin1 text of the range, for every length and offset', () => {
    for (let start = 0; start < 40; start++) {
      for (let n = 0; n <= 24; n++) {
        const want = bytes.toString('latin1', start, start + n);
        const got = latin1String(bytes, start, start + n);
        expect(got.length).toBe(n);
        expect(got).toBe(want);
      }
    }
    expect(latin1String(bytes, 0, 300)).toBe(bytes.toString('latin1'));
  });

  it('reads nothing past the range', () => {
    const key = Buffer.from('xxdev-1234567890yy') as SliceableBuffer;
    expect(latin1String(key, 2, 16)).toBe('dev-1234567890');
    expect(latin1String(key, 2, 2)).toBe('');
  });
});
