import { type RawSeries, SeriesError } from './series-types.js';

// `YYYY-MM-DD HH:MM:SS` (UTC) or ISO 8601 with `T`, optional fraction and zone (no zone = UTC).
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Parses a UTC timestamp in ISO 8601 or `YYYY-MM-DD HH:MM:SS` form; NaN when it is not one. */
export function parseTimestamp(text: string): number {
  const m = TIMESTAMP.exec(text);
  if (!m) return Number.NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
  const base = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  // Date.UTC rolls 2021-02-30 over to March: reject dates that do not round-trip.
  const check = new Date(base);
  if (
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  )
    return Number.NaN;
  if (!zone || zone === 'Z') return base;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return base - sign * offsetMin * 60_000;
}

/**
 * Parses CSV text with the header `timestamp,value`.
 *
 * Blank lines are skipped. Rows out of timestamp order are sorted (stable) and counted in
 * `outOfOrder`; rows with a repeated timestamp are kept and merged later by `resample` per
 * its `agg`. Throws `SeriesError` (with the 1-based line and the bad text) for a wrong header,
 * a timestamp that is not ISO 8601 / `YYYY-MM-DD HH:MM:SS`, a value that is not a finite number,
 * or a file without data rows.
 */
export function parseTimeSeriesCsv(text: string): RawSeries {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '')
    .replace(/^\uFEFF/, '')
    .trim()
    .toLowerCase()
    .replace(/\s+/g, '');
  if (header !== 'timestamp,value')
    throw new SeriesError(
      'BAD_HEADER',
      `line 1: header "${lines[0] ?? ''}" is not "timestamp,value": the first line must name the two columns`,
      1,
      lines[0] ?? '',
    );
  const rows: { t: number; v: number }[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '') continue;
    const comma = line.indexOf(',');
    const ts = (comma < 0 ? line : line.slice(0, comma)).trim().replace(/^"|"$/g, '');
    const raw =
      comma < 0
        ? ''
        : line
            .slice(comma + 1)
            .trim()
            .replace(/^"|"$/g, '');
    const t = parseTimestamp(ts);
    if (Number.isNaN(t))
      throw new SeriesError(
        'BAD_TIMESTAMP',
        `line ${i + 1}: timestamp "${ts}" is not ISO 8601 or "YYYY-MM-DD HH:MM:SS" (UTC)`,
        i + 1,
        ts,
      );
    const v = raw === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(v))
      throw new SeriesError(
        'BAD_VALUE',
        `line ${i + 1}: value "${raw}" is not a finite number: fix or remove the row`,
        i + 1,
        raw,
      );
    rows.push({ t, v });
  }
  if (rows.length === 0) throw new SeriesError('EMPTY_SERIES', 'the input has a header but no data rows');
  let outOfOrder = 0;
  for (let i = 1; i < rows.length; i++) if ((rows[i]?.t ?? 0) < (rows[i - 1]?.t ?? 0)) outOfOrder++;
  if (outOfOrder > 0) rows.sort((a, b) => a.t - b.t);
  return { timestampsMs: rows.map((r) => r.t), values: rows.map((r) => r.v), outOfOrder };
}
