import { describe, expect, it } from 'vitest';
import { pipelineSchema, pipelinesSchema } from '../../../../aggregator/pipeline/pipeline-schema.js';
import { describeIssues } from '../../../../infra/config/config-error.js';
import { configSchema } from '../../../../infra/config/config-schema.js';

const base = {
  name: 'devices',
  source: { topics: ['events'] },
  keyFields: ['device'],
  windows: ['1m', '10m', '1h'],
  aggregates: [{ field: 'temp', kinds: ['count', 'mean', 'quantiles'] }],
  sink: { type: 'cassandra', table: 'results' },
};

function problems(input: unknown): string[] {
  const r = pipelinesSchema.safeParse([input], { reportInput: true });
  return r.success ? [] : describeIssues(r.error.issues, 'pipelines');
}

describe('pipeline schema', () => {
  it('parses durations to ms and fills defaults', () => {
    const p = pipelineSchema.parse(base);
    expect(p.windows).toEqual([60_000, 600_000, 3_600_000]);
    expect(p).toMatchObject({
      eventTimeField: 'timestamp',
      allowedLatenessMs: 0,
      maxRecordBytes: 65_536,
      stateMachines: [],
    });
    expect(p.idleAfterMs).toBeUndefined();
    expect(pipelineSchema.parse({ ...base, idleAfterMs: 60_000 }).idleAfterMs).toBe(60_000);
    expect(p.source.format).toBe('json');
    expect(p.aggregates[0]).toMatchObject({
      quantiles: [0.5, 0.9, 0.99],
      relativeAccuracy: 0.01,
      hllPrecision: 12,
    });
  });

  it.each([
    [{ windows: ['1m', '90s'] }, 'pipelines.0.windows: 90s is not a multiple of 1m'],
    [{ windows: ['1m', '60s'] }, 'pipelines.0.windows: lists a window size twice'],
    [{ windows: ['soon'] }, 'pipelines.0.windows.0: "soon" is not a positive duration'],
    [
      {
        aggregates: [
          { field: 'temp', kinds: ['sum'] },
          { field: 'temp', kinds: ['max'] },
        ],
      },
      'pipelines.0.aggregates.1.field: "temp" is aggregated twice',
    ],
    [
      { aggregates: [{ field: 'device', kinds: ['sum'] }] },
      'pipelines.0.aggregates.0.field: "device" is a key field',
    ],
    [{ aggregates: [{ field: 't', kinds: ['median'] }] }, 'pipelines.0.aggregates.0.kinds.0'],
    [
      { nextLevel: { topic: 'l2', keyFields: ['site'] } },
      'pipelines.0.nextLevel.keyFields.0: "site" is not one of keyFields',
    ],
    [{ sink: { type: 'kafka', topic: 'events' } }, 'pipelines.0.sink.topic: "events" is also a source topic'],
    [{ sink: { type: 'redis' } }, 'pipelines.0.sink.type'],
    [{ name: '9 lives' }, 'pipelines.0.name: "9 lives" must be letters'],
    [{ extra: 1 }, 'pipelines.0'],
    [{ idleAfterMs: 500 }, 'pipelines.0.idleAfterMs'],
    [{ idleAfterMs: '1m' }, 'pipelines.0.idleAfterMs'],
  ])('%j is refused naming the field', (patch, expected) => {
    const out = problems({ ...base, ...patch });
    expect(out.join('\n')).toContain(expected);
  });

  it('refuses two pipelines with one name, and sits in the root config as `pipelines`', () => {
    const r = pipelinesSchema.safeParse([base, base]);
    expect(r.success).toBe(false);
    expect(configSchema.parse({}).pipelines).toEqual([]);
    expect(configSchema.parse({ pipelines: [base] }).pipelines[0]!.windows[0]).toBe(60_000);
  });

  it('takes state machines in the state-machine schema', () => {
    const sm = {
      name: 'online',
      states: ['on', 'off'],
      initial: 'on',
      timeouts: [{ state: 'on', afterMs: 300_000, to: 'off' }],
    };
    expect(pipelineSchema.parse({ ...base, stateMachines: [sm] }).stateMachines[0]!.name).toBe('online');
    expect(problems({ ...base, stateMachines: [sm, sm] }).join('\n')).toContain(
      '"online" names two state machines',
    );
  });
});
