/**
 * Series keys: the key field values of a record joined into one string. The join must be
 * injective (two distinct key tuples never share a series key), so the separator and the escape
 * character are escaped inside values: `\` → `\\`, `|` → `\|`. Reading left to right, an
 * unescaped `|` always ends a value, so the tuple can be recovered (see {@link splitSeriesKey}).
 */
export const SERIES_KEY_SEPARATOR = '|';

/** Joins key values into a series key (deterministic, injective for a fixed number of values). */
export function seriesKeyOf(values: readonly string[]): string {
  const n = values.length;
  if (n === 1) return escapeKeyPart(values[0] as string);
  let out = '';
  for (let i = 0; i < n; i++) {
    if (i > 0) out += SERIES_KEY_SEPARATOR;
    out += escapeKeyPart(values[i] as string);
  }
  return out;
}

/** Escapes one key value; returns it unchanged (no copy) in the common case of no `|` or `\`. */
export function escapeKeyPart(value: string): string {
  if (value.indexOf('|') === -1 && value.indexOf('\\') === -1) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '|' || c === '\\') out += '\\';
    out += c;
  }
  return out;
}

/** Recovers the key values from a series key (the inverse of {@link seriesKeyOf}). */
export function splitSeriesKey(seriesKey: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < seriesKey.length; i++) {
    const c = seriesKey[i] as string;
    if (c === '\\' && i + 1 < seriesKey.length) {
      cur += seriesKey[i + 1];
      i++;
    } else if (c === SERIES_KEY_SEPARATOR) {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  return parts;
}
