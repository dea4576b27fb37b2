import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PartitionEngine, type WindowResult } from '../../../../aggregator/engine/partition-engine.js';
import { pipelineSchema } from '../../../../aggregator/pipeline/pipeline-schema.js';
import { S3ResultsSink } from '../../../../infra/s3/s3-results-sink.js';
import { MemoryBlobStore } from '../../../fakes/memory-blob-store.js';

const T0 = Date.UTC(2026, 0, 1);
const KEYS = 30_000;
const origin = { pipeline: 'temps', topic: 'in', partition: 2 };

/** An engine holding KEYS series in the first 1m window, closed by one later record. */
function closedEngine(): PartitionEngine {
  const pipeline = pipelineSchema.parse({
    name: 'temps',
    source: { topics: ['in'] },
    keyFields: ['device'],
    eventTimeField: 'ts',
    windows: ['1m'],
    allowedLatenessMs: 0,
    aggregates: [{ field: 'temp', kinds: ['count', 'sum', 'max'] }],
    sink: { type: 's3', bucket: 'results-bucket' },
  });
  const e = new PartitionEngine({ pipeline, topic: 'in', partition: 2 });
  const rec = { seriesKey: '', keyValues: {}, eventTimeMs: T0, numbers: { temp: 0 }, strings: {}, raw: {} };
  for (let k = 0; k < KEYS; k++) {
    rec.seriesKey = `dev-${k}`;
    rec.eventTimeMs = T0 + (k % 60_000);
    rec.numbers.temp = k / 4;
    e.process(rec, k);
  }
  rec.seriesKey = 'closer';
  rec.eventTimeMs = T0 + 60_000;
  e.process(rec, KEYS);
  return e;
}

/** Every object's lines, by key. */
function objects(
  blobs: MemoryBlobStore,
): Map<string, { seriesKey: string; metrics: Record<string, number> }[]> {
  const out = new Map<string, { seriesKey: string; metrics: Record<string, number> }[]>();
  for (const [key, o] of blobs.objects) {
    const lines = gunzipSync(o.body).toString().trim().split('\n');
    out.set(
      key,
      lines.map((l) => JSON.parse(l) as { seriesKey: string; metrics: Record<string, number> }),
    );
  }
  return out;
}

async function writeInParts(blobs: MemoryBlobStore, maxRows: number): Promise<WindowResult[]> {
  const sink = new S3ResultsSink(blobs, 'out');
  const e = closedEngine();
  const all: WindowResult[] = [];
  for (;;) {
    const { results, transitions, more } = e.drainClosed(maxRows);
    await sink.write(results, transitions, origin);
    all.push(...results);
    if (!more) return all;
  }
}

describe('S3ResultsSink', () => {
  it('writes one object per window part with every row of the window exactly once, sorted by series', async () => {
    const blobs = new MemoryBlobStore();
    const results = await writeInParts(blobs, 1000);
    const byKey = objects(blobs);
    const start = new Date(T0).toISOString();
    const keys = [...byKey.keys()].sort();
    expect(keys.length).toBeGreaterThanOrEqual(2);
    expect(keys).toEqual(
      keys.map(
        (_, i) => `out/temps/size=60000/start=${start}/in-2-part-${String(i).padStart(5, '0')}.jsonl.gz`,
      ),
    );
    const rows = [...byKey.values()].flat();
    expect(rows).toHaveLength(KEYS);
    expect(new Set(rows.map((r) => r.seriesKey)).size).toBe(KEYS);
    for (const lines of byKey.values()) {
      const series = lines.map((l) => l.seriesKey);
      expect(series).toEqual([...series].sort());
    }
    for (const r of rows) {
      const k = Number(r.seriesKey.slice(4));
      expect(r.metrics).toEqual({ 'temp.count': 1, 'temp.sum': k / 4, 'temp.max': k / 4 });
    }
    expect(results).toHaveLength(KEYS);
  });

  it('rewrites the same objects with the same bytes whatever the rows per write (a replay is idempotent)', async () => {
    const one = new MemoryBlobStore();
    const other = new MemoryBlobStore();
    await writeInParts(one, 1000);
    await writeInParts(other, 1_000_000);
    expect([...other.objects.keys()].sort()).toEqual([...one.objects.keys()].sort());
    for (const [key, o] of one.objects)
      expect(Buffer.from(other.objects.get(key)!.body).equals(o.body)).toBe(true);
  });
});

describe("S3ResultsSink puts a write's objects concurrently", () => {
  const transitions = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      machine: 'presence',
      seriesKey: `dev-${i}`,
      keyValues: { device: `dev-${i}` },
      from: 'online',
      to: 'offline',
      atMs: T0 + i,
      cause: 'timeout' as const,
    }));

  /** A memory blob store whose puts wait a tick, counting how many are in flight. */
  class SlowBlobStore extends MemoryBlobStore {
    inFlight = 0;
    maxInFlight = 0;
    puts = 0;
    override async put(key: string, body: Uint8Array): Promise<void> {
      this.puts++;
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        await new Promise((r) => setTimeout(r, 1));
        await super.put(key, body);
      } finally {
        this.inFlight--;
      }
    }
  }

  it('at most `concurrency` at a time, every object once', async () => {
    const blobs = new SlowBlobStore();
    await new S3ResultsSink(blobs, 'out', { concurrency: 7 }).write([], transitions(100), origin);
    expect(blobs.objects.size).toBe(100);
    expect(blobs.maxInFlight).toBe(7);
    const [key, o] = [...blobs.objects].find(([k]) => k.includes('/dev-3/'))!;
    expect(key).toBe(`out/temps/transitions/presence/dev-3/${T0 + 3}-online-offline.json`);
    expect(JSON.parse(Buffer.from(o.body).toString())).toMatchObject({ seriesKey: 'dev-3', atMs: T0 + 3 });
  });

  it('a failed put fails the write and starts no further put (the worker retries the whole write)', async () => {
    const blobs = new SlowBlobStore();
    blobs.failNext(1, ['put']);
    await expect(
      new S3ResultsSink(blobs, 'out', { concurrency: 4 }).write([], transitions(100), origin),
    ).rejects.toThrow();
    // The failed put and the three beside it, each lane's current put at most.
    expect(blobs.puts).toBeLessThanOrEqual(4 + 3);
  });
});

describe('S3ResultsSink writes grouped transitions one object per part', () => {
  /** Transitions `from..to` of a partition's sequence, handed out as the part [from, to). */
  const part = (from: number, to: number) => {
    const p = { from, to };
    return Array.from({ length: to - from }, (_, k) => ({
      machine: 'presence',
      seriesKey: `dev-${from + k}`,
      keyValues: { device: `dev-${from + k}` },
      from: 'online',
      to: 'offline',
      atMs: T0 + from + k,
      cause: 'timeout' as const,
      seq: from + k,
      part: p,
    }));
  };

  it('keyed by the part, lines in sequence order; a rewrite of the part is the same bytes', async () => {
    const blobs = new MemoryBlobStore();
    const sink = new S3ResultsSink(blobs, 'out');
    const first = part(0, 300);
    const second = part(300, 310);
    // Handed over out of order within a write: the object's lines still follow the sequence.
    await sink.write([], [...second.reverse(), ...first], origin);
    expect([...blobs.objects.keys()].sort()).toEqual([
      'out/temps/transitions/in-2/seq-000000000000-000000000300.jsonl.gz',
      'out/temps/transitions/in-2/seq-000000000300-000000000310.jsonl.gz',
    ]);
    const body = blobs.objects.get('out/temps/transitions/in-2/seq-000000000300-000000000310.jsonl.gz')!.body;
    const lines = gunzipSync(body)
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; seriesKey: string; at: string; cause: string });
    expect(lines.map((l) => l.seq)).toEqual([300, 301, 302, 303, 304, 305, 306, 307, 308, 309]);
    expect(lines[0]).toMatchObject({
      seriesKey: 'dev-300',
      at: new Date(T0 + 300).toISOString(),
      cause: 'timeout',
    });
    const again = new MemoryBlobStore();
    await new S3ResultsSink(again, 'out').write([], part(300, 310), origin);
    const key = 'out/temps/transitions/in-2/seq-000000000300-000000000310.jsonl.gz';
    expect(Buffer.from(again.objects.get(key)!.body).equals(body)).toBe(true);
  });

  it('refuses a part handed over incomplete (it would overwrite the whole part with less)', async () => {
    const blobs = new MemoryBlobStore();
    await expect(new S3ResultsSink(blobs, 'out').write([], part(0, 10).slice(0, 9), origin)).rejects.toThrow(
      /transitions 0\.\.10 handed over with 9/,
    );
    expect(blobs.objects.size).toBe(0);
  });
});
