import { describe, expect, it } from 'vitest';
import { dataHighWatermark } from '../../../../infra/kafka/kafka-record-source.js';

describe('dataHighWatermark', () => {
  it('is the high watermark when the batch ends with its last record', () => {
    expect(dataHighWatermark('100', '41', '41')).toBe('100');
    expect(dataHighWatermark('42', '41', '41')).toBe('42');
  });

  it('leaves out a commit marker after the last record: caught up means no lag', () => {
    // Records 0..40, the commit marker at 41, high watermark 42: the next offset to consume
    // (41) reaches the data's end.
    expect(dataHighWatermark('42', '41', '40')).toBe('41');
  });

  it('leaves out markers and aborted records at the end but counts what was produced after them', () => {
    // Last record 40, offsets 41..43 without data, 6 more offsets produced since the fetch.
    expect(dataHighWatermark('50', '43', '40')).toBe('47');
  });

  it('never reports less than the offset after the last record, nor more than the high watermark', () => {
    expect(dataHighWatermark('41', '45', '40')).toBe('41');
    expect(dataHighWatermark('10', '9', '20')).toBe('10');
  });
});
