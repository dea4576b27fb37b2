/**
 * Node's Buffer has these (they back `toString('latin1' | 'utf8', start, end)`) but its typings
 * omit them; calling them directly skips `toString`'s argument normalisation, which cost as much
 * as the copy for the short strings read here.
 */
export interface SliceableBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const char = String.fromCharCode;

/**
 * `b.latin1Slice(start, end)`: the string with one code unit per byte of `b[start..end)`. Up to 16
 * bytes (series keys, numbers), `String.fromCharCode` makes it from the bytes as arguments: a
 * builtin of the JavaScript engine, where `latin1Slice` is a call into C++ that costs more than the
 * copy (a drained row's key: ~40 ns against ~100 ns). Longer ranges are sliced.
 */
export function latin1String(b: SliceableBuffer, start: number, end: number): string {
  const o = start;
  // biome-ignore format: one line per length
  switch (end - start) {
    case 0: return '';
    case 1: return char(b[o]!);
    case 2: return char(b[o]!, b[o + 1]!);
    case 3: return char(b[o]!, b[o + 1]!, b[o + 2]!);
    case 4: return char(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!);
    case 5: return char(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!);
    case 6: return char(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!);
    case 7: return char(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!);
    case 8: return char(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!);
    case 9: return char(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!);
    case 10: return char(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!, b[o + 9]!);
    case 11: return char(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!, b[o + 9]!, b[o + 10]!);
    case 12: return char(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!, b[o + 9]!, b[o + 10]!, b[o + 11]!);
    case 13: return char(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!, b[o + 9]!, b[o + 10]!, b[o + 11]!, b[o + 12]!);
    case 14: return char(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!, b[o + 9]!, b[o + 10]!, b[o + 11]!, b[o + 12]!, b[o + 13]!);
    case 15: return char(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!, b[o + 9]!, b[o + 10]!, b[o + 11]!, b[o + 12]!, b[o + 13]!, b[o + 14]!);
    case 16: return char(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!, b[o + 9]!, b[o + 10]!, b[o + 11]!, b[o + 12]!, b[o + 13]!, b[o + 14]!, b[o + 15]!);
    default: return b.latin1Slice(start, end);
  }
}
