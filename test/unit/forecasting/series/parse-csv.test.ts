import { describe, expect, it } from 'vitest';
import { parseTimeSeriesCsv, parseTimestamp } from '../../../../forecasting/series/parse-csv.js';
import { SeriesError } from '../../../../forecasting/series/series-types.js';

describe('parseTimeSeriesCsv', () => {
  it('reads both timestamp forms as UTC', () => {
    const s = parseTimeSeriesCsv(
      'timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01T01:00:00Z,2.5\n2024-01-01T03:00:00+01:00,3\n',
    );
    expect(s.timestampsMs).toEqual([
      Date.UTC(2024, 0, 1, 0),
      Date.UTC(2024, 0, 1, 1),
      Date.UTC(2024, 0, 1, 2),
    ]);
    expect(s.values).toEqual([1, 2.5, 3]);
    expect(s.outOfOrder).toBe(0);
  });

  it('sorts rows out of order and counts them', () => {
    const s = parseTimeSeriesCsv(
      'timestamp,value\n2024-01-01 02:00:00,3\n2024-01-01 00:00:00,1\n2024-01-01 01:00:00,2\n',
    );
    expect(s.values).toEqual([1, 2, 3]);
    expect(s.outOfOrder).toBe(1);
  });

  it('names the line and value of a non-numeric value', () => {
    try {
      parseTimeSeriesCsv('timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 01:00:00,abc\n');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SeriesError);
      const e = err as SeriesError;
      expect(e.code).toBe('BAD_VALUE');
      expect(e.line).toBe(3);
      expect(e.value).toBe('abc');
      expect(e.message).toContain('line 3');
    }
  });

  it('rejects bad timestamps, impossible dates, a wrong header and an empty file', () => {
    expect(() => parseTimeSeriesCsv('timestamp,value\n01/02/2024,1\n')).toThrow(
      /line 2: timestamp "01\/02\/2024"/,
    );
    expect(Number.isNaN(parseTimestamp('2023-02-30 00:00:00'))).toBe(true);
    expect(() => parseTimeSeriesCsv('time,val\n2024-01-01,1\n')).toThrow(SeriesError);
    expect(() => parseTimeSeriesCsv('timestamp,value\n')).toThrow(/no data rows/);
    expect(() => parseTimeSeriesCsv('timestamp,value\n2024-01-01 00:00:00,NaN\n')).toThrow(
      /not a finite number/,
    );
  });
});
