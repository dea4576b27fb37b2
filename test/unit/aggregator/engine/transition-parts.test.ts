import { describe, expect, it } from 'vitest';
import type { DecodedRecord } from '../../../../aggregator/decode/decoder.js';
import { seriesKeyOf } from '../../../../aggregator/decode/series-key.js';
import {
  PartitionEngine,
  type PartitionEngineOptions,
} from '../../../../aggregator/engine/partition-engine.js';
import { pipelineSchema } from '../../../../aggregator/pipeline/pipeline-schema.js';
import { drainBy, presenceMachine } from './engine-fixtures.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const DEVICES = 30_000;

const opts: PartitionEngineOptions = {
  pipeline: pipelineSchema.parse({
    name: 'presence',
    source: { topics: ['in'] },
    keyFields: ['device'],
    eventTimeField: 'ts',
    windows: ['1m'],
    allowedLatenessMs: 10_000,
    aggregates: [{ field: 'temp', kinds: ['count'] }],
    sink: { type: 'cassandra', table: 'results' },
    stateMachines: [
      presenceMachine(5 * MIN),
      { name: 'seen', states: ['new', 'known'], initial: 'new', transitions: [{ from: 'new', to: 'known' }] },
    ],
  }),
  topic: 'in',
  partition: 0,
};

function rec(device: string, t: number): DecodedRecord {
  return {
    seriesKey: seriesKeyOf([device]),
    keyValues: { device },
    eventTimeMs: t,
    numbers: { temp: 1 },
    strings: {},
    raw: { device, ts: t, temp: 1 },
  };
}

/** Every device reports once in the first minute (two record transitions each), nothing drained. */
function reported(): PartitionEngine {
  const e = new PartitionEngine(opts);
  // Some keys need escaping: their key values must come back from the series key intact.
  for (let d = 0; d < DEVICES; d++) e.process(rec(d % 5 === 0 ? `d|${d}` : `d${d}`, T0 + (d % MIN)), d);
  return e;
}

/** Then one device reports after everyone's 5-minute silence: DEVICES timeouts in one step. */
function silent(): PartitionEngine {
  const e = reported();
  e.process(rec('closer', T0 + 6 * MIN + 20_000), DEVICES);
  return e;
}

describe('PartitionEngine hands transitions out a bounded number at a time', () => {
  const whole = silent().drainClosed().transitions;

  it('every transition once, in the order they happened, whatever the call size', () => {
    // 2 record transitions per device and the closer, one timeout per device.
    expect(whole).toHaveLength(2 * (DEVICES + 1) + DEVICES);
    expect(whole.slice(0, 4).map((t) => `${t.machine}:${t.seriesKey}:${t.to}`)).toEqual([
      'presence:d\\|0:online',
      'seen:d\\|0:known',
      'presence:d1:online',
      'seen:d1:known',
    ]);
    expect(whole[0]!.keyValues).toEqual({ device: 'd|0' });
    const timeouts = whole.filter((t) => t.cause === 'timeout');
    expect(timeouts).toHaveLength(DEVICES);
    expect(timeouts[0]).toEqual({
      machine: 'presence',
      seriesKey: 'd\\|0',
      keyValues: { device: 'd|0' },
      from: 'online',
      to: 'offline',
      atMs: T0 + 5 * MIN,
      cause: 'timeout',
    });

    const calls = drainBy(silent(), 5000);
    for (const c of calls)
      expect(c.results.length + c.transitions.length).toBeLessThanOrEqual(Math.max(5000, c.results.length));
    expect(calls.filter((c) => c.transitions.length > 0).length).toBeGreaterThanOrEqual(18);
    expect(calls.flatMap((c) => c.transitions)).toEqual(whole);
  });

  it('holds waiting transitions in ~15–40 bytes each, charged to the state, given back when taken', () => {
    const e = reported();
    const held = e.stats().stateBytes;
    // The window is still open: the call takes the 2 × DEVICES record transitions only.
    const out = e.drainClosed();
    expect(out.results).toHaveLength(0);
    expect(out.transitions).toHaveLength(2 * DEVICES);
    const perTransition = (held - e.stats().stateBytes) / (2 * DEVICES);
    expect(perTransition).toBeGreaterThanOrEqual(15);
    expect(perTransition).toBeLessThanOrEqual(40);
  });

  it('a snapshot between calls keeps only the transitions not taken', () => {
    const e = silent();
    const a = e.drainClosed(5000);
    const b = e.drainClosed(5000);
    const restored = PartitionEngine.restore(opts, e.snapshot());
    const rest = drainBy(restored, 5000).flatMap((c) => c.transitions);
    expect([...a.transitions, ...b.transitions, ...rest]).toEqual(whole);
  });
});
