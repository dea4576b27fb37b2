import { afterEach, describe, expect, it } from 'vitest';
import {
  diffResults,
  type ExpectedRow,
  generateEvents,
  newScenario,
  produceEvents,
  referenceRows,
  writeWorkerConfig,
} from '../helpers/aggregation-scenario.js';
import { eventually } from '../helpers/cli-process.js';
import { kafkaClient, readJsonLines } from '../helpers/stack-endpoints.js';
import { WorkerFleet, waitForCommitted } from '../helpers/worker-harness.js';

const fleet = new WorkerFleet();
afterEach(() => fleet.killAll());

interface S3Row {
  seriesKey: string;
  windowStart: string;
  metrics: Record<string, number>;
}

/** Every result line the worker wrote under `prefix` (end markers left out), with the objects' keys. */
async function readS3Results(bucket: string, prefix: string): Promise<{ keys: string[]; rows: S3Row[] }> {
  const { keys, lines } = await readJsonLines<S3Row>(bucket, prefix);
  return { keys, rows: lines.filter((r) => !r.seriesKey.startsWith('__end-')) };
}

describe('aggregator worker with the S3 sink (real Kafka and S3)', () => {
  it('writes exactly the reference aggregates as JSON Lines objects, large windows in parts, each row once, across a kill -9', async () => {
    const kafka = kafkaClient();
    const s = await newScenario(kafka, 2);
    // 18,000 series per partition and 1-minute window: more than one part (16,384 table slots) each.
    const events = generateEvents(s, 36_000, 1, 3);
    const { file, adminPort } = await writeWorkerConfig(
      s,
      undefined,
      { sink: { maxRowsPerWrite: 4000 } },
      {},
      { sink: { type: 's3', bucket: s.bucket, prefix: 'results' } },
    );
    // Killed (kill -9) after a first checkpoint; the successor restores it and replays: the parts
    // it writes again are the same rows, so they overwrite the same objects.
    const first = await fleet.start(file, adminPort, 'worker-s3-1');
    // Two thirds first: the first window has closed (and been written) when the worker dies.
    const cut = Math.floor((events[0]!.length * 2) / 3);
    await produceEvents(kafka, s, events, { to: cut });
    await waitForCommitted(kafka, s);
    await fleet.kill(first);
    const worker = await fleet.start(file, adminPort, 'worker-s3-2');
    await produceEvents(kafka, s, events, { from: cut, closeWindows: true });

    const expected = referenceRows(events, s.windowMs);
    const { keys, rows } = await eventually(
      async () => {
        const got = await readS3Results(s.bucket, 'results');
        return got.rows.length >= expected.size ? got : undefined;
      },
      120_000,
      `${expected.size} result rows in S3`,
    );
    expect(rows).toHaveLength(expected.size);
    const actual = new Map<string, ExpectedRow & { mean: number }>();
    for (const r of rows) {
      const m = r.metrics;
      actual.set(`${r.seriesKey}|${Date.parse(r.windowStart)}`, {
        count: m['temp.count']!,
        sum: m['temp.sum']!,
        min: m['temp.min']!,
        max: m['temp.max']!,
        mean: m['temp.mean']!,
      });
    }
    expect(actual.size).toBe(rows.length);
    expect(diffResults(actual, expected)).toEqual([]);

    // Per (window, partition): parts 0, 1, … of the closed table, keyed deterministically.
    const windowObjects = keys.filter((k) => k.includes('/start=2026-11-26T12:00:00.000Z/'));
    for (const p of [0, 1]) {
      const parts = windowObjects.filter((k) => k.includes(`/${encodeURIComponent(s.topic)}-${p}-part-`));
      expect(parts.length, `partition ${p}`).toBeGreaterThanOrEqual(2);
      expect(parts[0]).toMatch(/-part-00000\.jsonl\.gz$/);
    }

    const drain = await fetch(`http://127.0.0.1:${adminPort}/drain`, { method: 'POST' });
    expect(drain.status).toBe(200);
    expect(await worker.exited).toBe(0);
  });
});
