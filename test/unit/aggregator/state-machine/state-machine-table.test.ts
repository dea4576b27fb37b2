import { describe, expect, it } from 'vitest';
import type { DecodedRecord } from '../../../../aggregator/decode/decoder.js';
import { seriesKeyOf } from '../../../../aggregator/decode/series-key.js';
import {
  type StateMachineDefinition,
  type StateMachineInput,
  stateMachineSchema,
} from '../../../../aggregator/state-machine/state-machine-schema.js';
import { StateMachineSnapshotError } from '../../../../aggregator/state-machine/state-machine-snapshot.js';
import {
  StateMachineTable,
  type Transition,
} from '../../../../aggregator/state-machine/state-machine-table.js';

const MIN = 60_000;
const def = (input: StateMachineInput): StateMachineDefinition => stateMachineSchema.parse(input);

const presence = def({
  name: 'presence',
  states: ['online', 'offline'],
  initial: 'online',
  transitions: [{ from: 'offline', to: 'online' }],
  timeouts: [{ state: 'online', afterMs: 5 * MIN, to: 'offline' }],
});

function rec(device: string, eventTimeMs: number, raw: Record<string, unknown> = {}): DecodedRecord {
  return {
    seriesKey: seriesKeyOf([device]),
    keyValues: { device },
    eventTimeMs,
    numbers: {},
    strings: {},
    raw: { device, ts: eventTimeMs, ...raw },
  };
}

const brief = (ts: Transition[]) => ts.map((t) => `${t.seriesKey}:${t.from}>${t.to}@${t.atMs}/${t.cause}`);

describe('state machine table', () => {
  it('device goes offline after 5 minutes of event-time silence and back online on any record', () => {
    const table = new StateMachineTable(presence);
    expect(table.onRecord(rec('d1', 0), '0')).toEqual([]);
    expect(table.onRecord(rec('d1', 2 * MIN), '1')).toEqual([]);
    expect(table.onWatermark(6 * MIN)).toEqual([]); // due at 7 min
    expect(table.onWatermark(7 * MIN)).toEqual([
      {
        machine: 'presence',
        seriesKey: 'd1',
        keyValues: { device: 'd1' },
        from: 'online',
        to: 'offline',
        atMs: 7 * MIN,
        cause: 'timeout',
      },
    ]);
    expect(table.stateOf('d1')).toBe('offline');
    expect(brief(table.onRecord(rec('d1', 9 * MIN), '2'))).toEqual([`d1:offline>online@${9 * MIN}/record`]);
    expect(table.onWatermark(13 * MIN)).toEqual([]);
    expect(brief(table.onWatermark(14 * MIN))).toEqual([`d1:online>offline@${14 * MIN}/timeout`]);
  });

  it('a record after a silence gap fires the overdue timeout first, even if the watermark lags', () => {
    const table = new StateMachineTable(presence);
    table.onRecord(rec('d1', 0), '0');
    expect(brief(table.onRecord(rec('d1', 10 * MIN), '1'))).toEqual([
      `d1:online>offline@${5 * MIN}/timeout`,
      `d1:offline>online@${10 * MIN}/record`,
    ]);
    expect(table.onWatermark(10 * MIN)).toEqual([]);
  });

  it('an out-of-order record updates state but does not move the timeout back', () => {
    const table = new StateMachineTable(presence);
    table.onRecord(rec('d1', 4 * MIN), '0');
    table.onRecord(rec('d1', 1 * MIN), '1'); // older: due stays 9 min
    expect(table.onWatermark(8 * MIN)).toEqual([]);
    expect(brief(table.onWatermark(9 * MIN))).toEqual([`d1:online>offline@${9 * MIN}/timeout`]);
    // An old record still moves an offline key online; its timer base stays at 9 min.
    expect(brief(table.onRecord(rec('d1', 2 * MIN), '2'))).toEqual([`d1:offline>online@${2 * MIN}/record`]);
    expect(table.onWatermark(13 * MIN)).toEqual([]);
    expect(brief(table.onWatermark(14 * MIN))).toEqual([`d1:online>offline@${14 * MIN}/timeout`]);
  });

  it('fires timeouts in order of due time, then series key, and chains timeouts', () => {
    const chain = def({
      name: 'chain',
      states: ['active', 'idle', 'gone'],
      initial: 'active',
      transitions: [{ from: '*', to: 'active' }],
      timeouts: [
        { state: 'active', afterMs: 10, to: 'idle' },
        { state: 'idle', afterMs: 100, to: 'gone' },
      ],
    });
    const table = new StateMachineTable(chain);
    table.onRecord(rec('b', 0), '0');
    table.onRecord(rec('a', 0), '1');
    table.onRecord(rec('c', 50), '2');
    expect(brief(table.onWatermark(1000))).toEqual([
      'a:active>idle@10/timeout',
      'b:active>idle@10/timeout',
      'c:active>idle@60/timeout',
      'a:idle>gone@110/timeout',
      'b:idle>gone@110/timeout',
      'c:idle>gone@160/timeout',
    ]);
    expect(table.onWatermark(5000)).toEqual([]); // 'gone' has no timeout
    expect(brief(table.onRecord(rec('a', 2000), '3'))).toEqual(['a:gone>active@2000/record']); // '*' source
  });

  it('keeps (due, key) order when records pushed a filed timeout later', () => {
    const table = new StateMachineTable(
      def({ ...presence, timeouts: [{ state: 'online', afterMs: 10, to: 'offline' }] }),
    );
    table.onRecord(rec('a', 0), '0');
    table.onRecord(rec('b', 0), '1');
    table.onRecord(rec('a', 7), '2'); // a: filed at 10, really due at 17
    table.onRecord(rec('c', 3), '3');
    expect(brief(table.onWatermark(16))).toEqual([
      'b:online>offline@10/timeout',
      'c:online>offline@13/timeout',
    ]);
    expect(brief(table.onWatermark(17))).toEqual(['a:online>offline@17/timeout']);
  });

  it('gives timeout transitions the key values back, escaping included', () => {
    const table = new StateMachineTable(presence);
    const keyValues = { tenant: 'a|b', device: 'c\\d' };
    const seriesKey = seriesKeyOf([keyValues.tenant, keyValues.device]);
    table.onRecord({ seriesKey, keyValues, eventTimeMs: 0, numbers: {}, strings: {}, raw: {} }, '0');
    const [t] = table.onWatermark(5 * MIN);
    expect(t?.keyValues).toEqual(keyValues);
    expect(t?.seriesKey).toBe(seriesKey);
  });

  it('uses the first matching transition, predicates on fields, and emit filters', () => {
    const alarm = def({
      name: 'alarm',
      states: ['ok', 'warn', 'alarm'],
      initial: 'ok',
      transitions: [
        {
          from: '*',
          to: 'alarm',
          when: {
            all: [
              { field: 'temp', op: 'gte', value: 90 },
              { field: 'sensor', op: 'ne', value: 'test' },
            ],
          },
        },
        { from: 'ok', to: 'warn', when: { field: 'temp', op: 'gt', value: 70 } },
        {
          from: '*',
          to: 'ok',
          when: {
            any: [
              { field: 'temp', op: 'lt', value: 50 },
              { field: 'reset', op: 'exists' },
            ],
          },
        },
      ],
      emit: [{ to: 'alarm' }, { from: 'alarm', to: 'ok' }],
    });
    const table = new StateMachineTable(alarm);
    expect(table.onRecord(rec('x', 1, { temp: 75 }), '0')).toEqual([]); // ok>warn happens but is not emitted
    expect(table.stateOf('x')).toBe('warn');
    expect(table.onRecord(rec('x', 2, { temp: 95, sensor: 'test' }), '1')).toEqual([]);
    expect(brief(table.onRecord(rec('x', 3, { temp: 95 }), '2'))).toEqual(['x:warn>alarm@3/record']);
    expect(table.onRecord(rec('x', 4, { temp: 96 }), '3')).toEqual([]); // alarm>alarm is a no-op
    expect(brief(table.onRecord(rec('x', 5, { temp: 80, reset: true }), '4'))).toEqual([
      'x:alarm>ok@5/record',
    ]);
  });

  it('reports live keys and grows its byte estimate with keys', () => {
    const table = new StateMachineTable(presence);
    const empty = table.bytes();
    for (let i = 0; i < 1000; i++) table.onRecord(rec(`device-${i}`, i), String(i));
    expect(table.liveKeys()).toBe(1000);
    expect(table.bytes()).toBeGreaterThan(empty + 1000 * 20);
    expect(table.bytes()).toBeLessThan(1000 * 200);
  });
});

describe('state machine snapshot', () => {
  const machine = def({
    name: 'm',
    states: ['a', 'b', 'c'],
    initial: 'a',
    transitions: [
      { from: 'a', to: 'b', when: { field: 'v', op: 'gt', value: 50 } },
      { from: 'b', to: 'c', when: { field: 'v', op: 'lt', value: 10 } },
      { from: '*', to: 'a', when: { field: 'v', op: 'eq', value: 0 } },
    ],
    timeouts: [
      { state: 'b', afterMs: 30, to: 'a' },
      { state: 'c', afterMs: 70, to: 'a' },
    ],
  });

  /** A seeded stream of records (with disorder) and watermarks. */
  function* events(n: number): Generator<Event> {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    let time = 0;
    for (let i = 0; i < n; i++) {
      time += Math.floor(rand() * 5);
      if (i % 17 === 16) yield { wm: time - 20 };
      const t = time - Math.floor(rand() * 15);
      const key = `k|${Math.floor(rand() * 40)}`;
      yield { rec: { ...rec(key, t, { v: Math.floor(rand() * 100) }), seriesKey: seriesKeyOf([key]) } };
    }
  }

  type Event = { rec: DecodedRecord } | { wm: number };

  function run(table: StateMachineTable, evs: Event[]): Transition[] {
    const out: Transition[] = [];
    for (const [i, e] of evs.entries()) {
      out.push(...('wm' in e ? table.onWatermark(e.wm) : table.onRecord(e.rec, String(i))));
    }
    return out;
  }

  it('restoring at any point and continuing gives the same transitions as an uninterrupted run', () => {
    const evs = [...events(2000)];
    const reference = run(new StateMachineTable(machine), evs);
    expect(reference.filter((t) => t.cause === 'timeout').length).toBeGreaterThan(20);
    expect(reference.filter((t) => t.cause === 'record').length).toBeGreaterThan(20);
    for (const k of [0, 1, 333, 1000, evs.length - 1]) {
      const first = new StateMachineTable(machine);
      const before = run(first, evs.slice(0, k));
      const bytes = first.snapshot();
      const restored = StateMachineTable.restore(machine, bytes);
      expect(Buffer.from(restored.snapshot()).equals(Buffer.from(bytes))).toBe(true);
      expect(restored.liveKeys()).toBe(first.liveKeys());
      const after = run(restored, evs.slice(k));
      expect([...before, ...after]).toEqual(reference);
    }
  });

  it('maps states by name when the definition reorders them', () => {
    const table = new StateMachineTable(presence);
    table.onRecord(rec('d1', 0), '0');
    table.onWatermark(5 * MIN);
    const reordered = def({ ...presence, states: ['offline', 'online'] });
    const restored = StateMachineTable.restore(reordered, table.snapshot());
    expect(restored.stateOf('d1')).toBe('offline');
    expect(restored.lastAppliedOffset()).toBe('0');
  });

  it('rejects a snapshot of another machine, a removed state, and corrupt bytes', () => {
    const table = new StateMachineTable(presence);
    table.onRecord(rec('d1', 0), '0');
    const bytes = table.snapshot();
    expect(() => StateMachineTable.restore({ ...presence, name: 'other' }, bytes)).toThrow(
      /"presence", not "other"/,
    );
    const noOnline = def({ name: 'presence', states: ['offline'], initial: 'offline' });
    expect(() => StateMachineTable.restore(noOnline, bytes)).toThrow(/state "online"/);
    expect(() => StateMachineTable.restore(presence, bytes.subarray(0, bytes.length - 3))).toThrow(
      StateMachineSnapshotError,
    );
    expect(() => StateMachineTable.restore(presence, new Uint8Array(8))).toThrow(/bad magic/);
  });
});
