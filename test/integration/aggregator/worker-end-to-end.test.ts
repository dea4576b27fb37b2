import { afterEach, describe, expect, it } from 'vitest';
import {
  diffResults,
  generateEvents,
  newScenario,
  produceEvents,
  readResults,
  referenceRows,
  type Scenario,
  writeWorkerConfig,
} from '../helpers/aggregation-scenario.js';
import { type CliProcess, eventually, startCli } from '../helpers/cli-process.js';
import { kafkaClient } from '../helpers/stack-endpoints.js';

const running: CliProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

async function applySchema(file: string): Promise<void> {
  const p = startCli(['schema', 'apply', '--config', file, '--json'], { name: 'schema' });
  expect(await p.exited).toBe(0);
}

async function deadLetterReasons(s: Scenario, expected: number): Promise<string[]> {
  const kafka = kafkaClient();
  const consumer = kafka.consumer({ groupId: `${s.groupId}-dlq-reader` });
  const reasons: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [s.dlqTopic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => void reasons.push(String(message.headers?.['la-reason'])),
  });
  await eventually(async () => (reasons.length >= expected ? true : undefined), 30_000, 'dead letters');
  await consumer.disconnect();
  return reasons.sort();
}

describe('aggregator worker on real Kafka, Cassandra and S3', () => {
  it('writes exactly the reference aggregates, dead-letters every bad record with its reason, and drains on request', async () => {
    const kafka = kafkaClient();
    const s = await newScenario(kafka, 3);
    const events = generateEvents(s, 12, 5, 6);
    const { file, adminPort } = await writeWorkerConfig(s);
    await applySchema(file);

    const worker = startCli(['worker', '--config', file, '--json'], { name: 'worker-e2e' });
    running.push(worker);
    const admin = `http://127.0.0.1:${adminPort}`;
    await eventually(
      async () => ((await fetch(`${admin}/readyz`)).ok ? true : undefined),
      60_000,
      'worker ready',
    );

    await produceEvents(kafka, s, events, { closeWindows: true });
    const producer = kafka.producer();
    await producer.connect();
    const bad = [
      '{not json',
      JSON.stringify({ ts: Date.UTC(2026, 10, 26, 12, 3), temp: 20 }),
      JSON.stringify({ device: 'dev-0', temp: 20 }),
      JSON.stringify({ device: 'dev-0', ts: Date.UTC(2026, 10, 26, 12, 3), temp: 'hot' }),
      JSON.stringify({ device: 'dev-0', ts: Date.UTC(2026, 10, 26, 12, 3), temp: 1, pad: 'x'.repeat(600) }),
      // Far behind partition 0's watermark (the end marker): its window closed long ago.
      JSON.stringify({ device: 'dev-0', ts: Date.UTC(2026, 10, 26, 12, 0, 5), temp: 99 }),
    ];
    await producer.send({
      topic: s.topic,
      acks: -1,
      messages: bad.map((value) => ({ value, partition: 0 })),
    });
    await producer.disconnect();

    const expected = referenceRows(events, s.windowMs);
    const actual = await eventually(
      async () => {
        const rows = await readResults(s);
        return rows.size >= expected.size ? rows : undefined;
      },
      90_000,
      `${expected.size} result rows`,
    );
    expect(diffResults(actual, expected)).toEqual([]);

    expect(await deadLetterReasons(s, bad.length)).toEqual([
      'late',
      'malformed_json',
      'missing_key',
      'missing_time',
      'oversized',
      'wrong_type',
    ]);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toMatch(/la_dead_letters_total\{pipeline="temps",reason="late"\} 1/);
    expect(metrics).toMatch(/la_aggregator_windows_emitted_total\{pipeline="temps"\} \d+/);
    // Every well-formed, on-time record was applied once: the events plus one end marker per partition.
    expect(metrics).toContain(
      `la_aggregator_updates_total{pipeline="temps"} ${events.flat().length + s.partitions}`,
    );

    const drain = await fetch(`${admin}/drain`, { method: 'POST' });
    expect(drain.status).toBe(200);
    const report = (await drain.json()) as { complete: boolean; checkpoints: { partition: number }[] };
    expect(report.complete).toBe(true);
    expect(report.checkpoints.map((c) => c.partition).sort()).toEqual([0, 1, 2]);
    expect(await worker.exited).toBe(0);
  });
});
