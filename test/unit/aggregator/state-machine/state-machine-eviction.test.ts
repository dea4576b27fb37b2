import { describe, expect, it } from 'vitest';
import type { DecodedRecord } from '../../../../aggregator/decode/decoder.js';
import { PartitionEngine } from '../../../../aggregator/engine/partition-engine.js';
import { pipelineSchema } from '../../../../aggregator/pipeline/pipeline-schema.js';
import {
  type StateMachineDefinition,
  stateMachineSchema,
} from '../../../../aggregator/state-machine/state-machine-schema.js';
import {
  StateMachineTable,
  type Transition,
} from '../../../../aggregator/state-machine/state-machine-table.js';
import { MemoryManager } from '../../../../aggregator/store/memory-manager.js';
import { rng } from '../engine/engine-fixtures.js';

const MIN = 60_000;
/** Rests in the initial state `offline` (no timeout there): its keys can be evicted. */
const presence: StateMachineDefinition = stateMachineSchema.parse({
  name: 'presence',
  states: ['offline', 'online', 'hot'],
  initial: 'offline',
  transitions: [
    { from: '*', to: 'hot', when: { field: 'temp', op: 'gt', value: 90 } },
    { from: 'offline', to: 'online' },
  ],
  timeouts: [
    { state: 'online', afterMs: 5 * MIN, to: 'offline' },
    { state: 'hot', afterMs: 2 * MIN, to: 'online' },
  ],
});

function rec(device: string, eventTimeMs: number, temp: number): DecodedRecord {
  return {
    seriesKey: device,
    keyValues: { device },
    eventTimeMs,
    numbers: { temp },
    strings: {},
    raw: { device, ts: eventTimeMs, temp },
  };
}

const HORIZON = 90_000;

type Input = { kind: 'record'; r: DecodedRecord } | { kind: 'wm'; t: number; quiet?: boolean };

/**
 * Bursts of keys that go quiet, come back, arrive out of order (within the horizon: a record
 * older than watermark − HORIZON is dropped, as the engine refuses it as late), with the
 * watermark stepping as records arrive.
 */
function inputs(seed: number): Input[] {
  const r = rng(seed);
  const out: Input[] = [];
  let wm = 0;
  for (let round = 0; round < 12; round++) {
    const base = round * 20 * MIN;
    const keys = 30 + Math.floor(r() * 200);
    for (let i = 0; i < 600; i++) {
      const t = base + Math.floor((i / 600) * 10 * MIN) - Math.floor(r() * 2 * HORIZON);
      if (t <= wm - HORIZON) continue;
      const key = `k${Math.floor(r() * r() * keys)}`;
      out.push({ kind: 'record', r: rec(key, t, Math.floor(r() * 100)) });
      if (t > wm) wm = t;
      if (r() < 0.05) out.push({ kind: 'wm', t: wm });
    }
    wm = base + 19 * MIN; // silence: every key times out and rests past the horizon
    out.push({ kind: 'wm', t: wm, quiet: true });
  }
  return out;
}

function feed(table: StateMachineTable, input: Input, offset: number): Transition[] {
  return input.kind === 'record' ? table.onRecord(input.r, String(offset)) : table.onWatermark(input.t);
}

describe('state machine eviction of keys resting in the initial state', () => {
  const all = inputs(11);

  it('emits exactly what a table that keeps every key emits, while holding only live keys', () => {
    const keeping = new StateMachineTable(presence);
    const evicting = new StateMachineTable(presence, { evictIdleAfterMs: HORIZON });
    const floor = new StateMachineTable(presence, { evictIdleAfterMs: HORIZON }).bytes();
    let peak = 0;
    let quietChecks = 0;
    all.forEach((input, offset) => {
      expect(feed(evicting, input, offset)).toEqual(feed(keeping, input, offset));
      peak = Math.max(peak, evicting.liveKeys());
      if (input.kind === 'wm' && input.quiet) {
        // After a long silence every key has timed out to `offline` and rested past the horizon.
        expect(evicting.liveKeys()).toBe(0);
        expect(evicting.bytes()).toBe(floor);
        quietChecks++;
      }
    });
    expect(quietChecks).toBe(12);
    expect(peak).toBeGreaterThan(20);
    expect(keeping.liveKeys()).toBeGreaterThan(100);
    expect(keeping.bytes()).toBeGreaterThan(floor);
  });

  it('a key that is back in the initial state but within the horizon keeps its timer base', () => {
    const evicting = new StateMachineTable(presence, { evictIdleAfterMs: HORIZON });
    const keeping = new StateMachineTable(presence);
    const steps: Input[] = [
      { kind: 'record', r: rec('a', 10 * MIN, 10) }, // offline > online
      { kind: 'wm', t: 15 * MIN }, // online > offline at 15 min; rests from there
      { kind: 'wm', t: 15 * MIN + HORIZON - 1 }, // not yet evicted
      // Older than its timer base (still acceptable): stays at 15 min in both tables.
      { kind: 'record', r: rec('a', 14 * MIN, 10) },
      { kind: 'wm', t: 30 * MIN },
    ];
    steps.forEach((s, i) => {
      expect(feed(evicting, s, i)).toEqual(feed(keeping, s, i));
      if (i === 2) expect(evicting.liveKeys()).toBe(1);
    });
    expect(evicting.liveKeys()).toBe(0);
  });

  it('restore at any point continues with the same outputs and evictions', () => {
    const straight = new StateMachineTable(presence, { evictIdleAfterMs: HORIZON });
    const expected = all.map((input, offset) => feed(straight, input, offset));
    const n = all.length;
    expect(n).toBeGreaterThan(4000);
    for (const cut of [1, 97, n >> 2, n >> 1, (3 * n) >> 2, n - 3]) {
      let t = new StateMachineTable(presence, { evictIdleAfterMs: HORIZON });
      all.forEach((input, offset) => {
        if (offset === cut)
          t = StateMachineTable.restore(presence, t.snapshot(), { evictIdleAfterMs: HORIZON });
        expect(feed(t, input, offset)).toEqual(expected[offset]);
      });
      expect(t.liveKeys()).toBe(straight.liveKeys());
      // A snapshot of a table that never evicted restores into an evicting one, too.
      const keeping = new StateMachineTable(presence);
      for (let k = 0; k < cut; k++) feed(keeping, all[k]!, k);
      const fromKeeping = StateMachineTable.restore(presence, keeping.snapshot(), {
        evictIdleAfterMs: HORIZON,
      });
      all.slice(cut).forEach((input, k) => {
        expect(feed(fromKeeping, input, cut + k)).toEqual(expected[cut + k]);
      });
    }
  });

  it('never evicts when the initial state has a timeout (its keys are never at rest)', () => {
    const busy = stateMachineSchema.parse({
      ...presence,
      initial: 'online',
    });
    const t = new StateMachineTable(busy, { evictIdleAfterMs: 0 });
    t.onRecord(rec('a', 0, 10), '0');
    t.onWatermark(60 * MIN); // online > offline: not the initial state, kept
    expect(t.liveKeys()).toBe(1);
    expect(t.stateOf('a')).toBe('offline');
  });
});

describe('engine state-machine memory follows live keys', () => {
  it('the machine memory returns to the same floor after each burst of keys goes quiet', () => {
    const pipeline = (machines: boolean) =>
      pipelineSchema.parse({
        name: 'presence',
        source: { topics: ['in'] },
        keyFields: ['device'],
        eventTimeField: 'ts',
        windows: ['1m'],
        allowedLatenessMs: 10_000,
        aggregates: [{ field: 'temp', kinds: ['count'] }],
        sink: { type: 'cassandra', table: 'results' },
        stateMachines: machines ? [presence] : [],
      });
    const memory = new MemoryManager({ budgetBytes: 1 << 30, highWater: 0.9, lowWater: 0.5 });
    const engine = new PartitionEngine({
      pipeline: pipeline(true),
      topic: 'in',
      partition: 0,
      memory: memory.account('p'),
    });
    // The same pipeline without the machine: the difference is what the machine holds.
    const bare = new PartitionEngine({ pipeline: pipeline(false), topic: 'in', partition: 0 });
    const transitions: Transition[] = [];
    let offset = 0;
    const both = (r: DecodedRecord) => {
      engine.process(r, offset);
      bare.process(r, offset++);
    };
    const machineBytes: number[] = [];
    const peaks: number[] = [];
    for (let round = 0; round < 3; round++) {
      const base = round * 30 * MIN;
      for (let i = 0; i < 3000; i++) both(rec(`dev-${round}-${i % 1000}`, base + i * 20, i % 95));
      peaks.push(engine.stats().stateBytes - bare.stats().stateBytes);
      transitions.push(...engine.drainClosed().transitions);
      bare.drainClosed();
      // A heartbeat key moves the watermark through the silence of the others.
      for (let t = base + 2 * MIN; t < base + 29 * MIN; t += MIN) both(rec('beat', t, 0));
      transitions.push(...engine.drainClosed().transitions);
      bare.drainClosed();
      machineBytes.push(engine.stats().stateBytes - bare.stats().stateBytes);
    }
    // Every key of every burst times out to `offline` (some went `hot` first: more timeouts).
    expect(transitions.filter((t) => t.to === 'offline').length).toBe(3000);
    // 1000 keys held at each peak; only the heartbeat key (resting in `online`) once quiet,
    // the same bytes after every burst (a table keeping its keys would add 1000 per burst).
    for (const p of peaks) expect(p).toBeGreaterThan(1000 * 64);
    expect(machineBytes[0]).toBeLessThan(4096);
    expect(machineBytes[1]).toBe(machineBytes[0]);
    expect(machineBytes[2]).toBe(machineBytes[0]);
    expect(memory.usedBytes()).toBe(engine.stats().stateBytes);
  });
});
