import { describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_REASONS,
  type DeadLetter,
  deadLetterOf,
  isDeadLetterReason,
  MAX_DETAIL_CHARS,
  toDeadLetterRecord,
} from '../../../../aggregator/dead-letter/dead-letter.js';

const letter: DeadLetter = {
  reason: 'missing_key',
  detail: 'key field "device" is missing',
  pipeline: 'devices',
  topic: 'events',
  partition: 3,
  offset: '12345678901234',
  key: Buffer.from('k1'),
  value: Buffer.from('{"ts":1}'),
};

describe('dead-letter record', () => {
  it('carries the reason, detail and source as string headers and the original bytes', () => {
    const r = toDeadLetterRecord(letter);
    expect(r.headers).toEqual({
      'la-reason': 'missing_key',
      'la-detail': 'key field "device" is missing',
      'la-pipeline': 'devices',
      'la-source-topic': 'events',
      'la-source-partition': '3',
      'la-source-offset': '12345678901234',
    });
    expect(r.key?.toString()).toBe('k1');
    expect(r.value?.toString()).toBe('{"ts":1}');
  });

  it('truncates an oversized value to the cap and says so in a header', () => {
    const value = Buffer.alloc(1000, 0x61);
    const r = toDeadLetterRecord({ ...letter, reason: 'oversized', value }, { valueCapBytes: 100 });
    expect(r.value?.length).toBe(100);
    expect(r.headers['la-truncated-from-bytes']).toBe('1000');
  });

  it('keeps a null value (tombstone) and cuts a huge detail', () => {
    const r = toDeadLetterRecord({ ...letter, value: null, detail: 'x'.repeat(5000) });
    expect(r.value).toBeNull();
    expect(r.headers['la-detail']?.length).toBe(MAX_DETAIL_CHARS);
    expect(r.headers['la-truncated-from-bytes']).toBeUndefined();
  });

  it('lists every reason for metric labels', () => {
    expect(DEAD_LETTER_REASONS).toEqual([
      'malformed_json',
      'missing_key',
      'missing_time',
      'wrong_type',
      'oversized',
      'late',
      'bad_partial',
    ]);
    expect(isDeadLetterReason('late')).toBe(true);
    expect(isDeadLetterReason('bogus')).toBe(false);
  });

  it('builds a dead letter from a decode failure and its source', () => {
    const { reason, detail, ...source } = letter;
    expect(deadLetterOf({ reason, detail }, source)).toEqual(letter);
  });
});
