import { describe, expect, it } from 'vitest';
import { PromParseError, parsePromText } from '../../../../infra/metrics/prom-text-parser.js';
import { PromWorkerMetrics } from '../../../../infra/metrics/prom-worker-metrics.js';

describe('parsePromText', () => {
  it('reads types, labels with escapes, special values and timestamps', () => {
    const text = [
      '# HELP la_x A metric with "quotes" in help',
      '# TYPE la_x counter',
      'la_x{topic="a\\"b",partition="0"} 12.5',
      'la_x{path="c:\\\\dir",note="line\\nbreak",} 3 1700000000000',
      '# TYPE la_g gauge',
      'la_g NaN',
      'la_h_bucket{le="+Inf"} +Inf',
      'la_i -Inf',
      'la_e 1e3',
      '',
    ].join('\n');
    const { samples, types } = parsePromText(text);
    expect(types.get('la_x')).toBe('counter');
    expect(types.get('la_g')).toBe('gauge');
    expect(samples[0]).toEqual({ name: 'la_x', labels: { topic: 'a"b', partition: '0' }, value: 12.5 });
    expect(samples[1]).toEqual({
      name: 'la_x',
      labels: { path: 'c:\\dir', note: 'line\nbreak' },
      value: 3,
      timestampMs: 1700000000000,
    });
    expect(samples[2]?.value).toBeNaN();
    expect(samples[3]).toEqual({
      name: 'la_h_bucket',
      labels: { le: '+Inf' },
      value: Number.POSITIVE_INFINITY,
    });
    expect(samples[4]?.value).toBe(Number.NEGATIVE_INFINITY);
    expect(samples[5]?.value).toBe(1000);
  });

  it('round-trips what the worker exposes (prom-client)', async () => {
    const metrics = new PromWorkerMetrics(false);
    metrics.consumed('events', 3, 120, 9000);
    metrics.busy('aggregator', 1.25);
    metrics.sinkWrite('cassandra', 10, 0.02, true);
    const { samples, types } = parsePromText(await metrics.text());
    expect(types.get('la_consumer_records_total')).toBe('counter');
    expect(samples).toContainEqual({
      name: 'la_consumer_records_total',
      labels: { topic: 'events', partition: '3' },
      value: 120,
    });
    expect(samples).toContainEqual({
      name: 'la_busy_seconds_total',
      labels: { component: 'aggregator' },
      value: 1.25,
    });
    expect(samples).toContainEqual({
      name: 'la_sink_write_seconds_count',
      labels: { sink: 'cassandra' },
      value: 1,
    });
  });

  it('names the line of a malformed sample', () => {
    expect(() => parsePromText('la_ok 1\nla_bad{topic="x} 2')).toThrow(PromParseError);
    expect(() => parsePromText('la_ok 1\nla_bad{topic="x} 2')).toThrow(/line 2/);
    expect(() => parsePromText('la_novalue')).toThrow(/sample value/);
    expect(() => parsePromText('la_x{1a="b"} 1')).toThrow(/label name/);
  });
});
