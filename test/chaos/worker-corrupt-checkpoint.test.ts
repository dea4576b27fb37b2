import { readFile } from 'node:fs/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { createS3Client } from '../../infra/aws/aws-clients.js';
import {
  generateEvents,
  newScenario,
  produceEvents,
  referenceRows,
  writeWorkerConfig,
} from '../integration/helpers/aggregation-scenario.js';
import { eventually, startCli } from '../integration/helpers/cli-process.js';
import { awsConnection, kafkaClient } from '../integration/helpers/stack-endpoints.js';
import {
  applySchema,
  expectExactly,
  WorkerFleet,
  waitForCommitted,
} from '../integration/helpers/worker-harness.js';

const fleet = new WorkerFleet();
afterEach(() => fleet.killAll());

interface ListedCheckpoint {
  pipeline: string;
  topic: string;
  partition: number;
  id: string;
  nextOffset: string;
  createdAt: string;
  dataKey: string;
}

async function cli(args: string[], name: string): Promise<{ code: number | string; json: unknown }> {
  const p = startCli(args, { name });
  const code = await p.exited;
  return { code, json: JSON.parse(p.stdout()) as unknown };
}

describe('a corrupted latest checkpoint', () => {
  it('is reported invalid, skipped with a warning, and the previous one restored and replayed exactly', async () => {
    const kafka = kafkaClient();
    const s = await newScenario(kafka, 2);
    const events = generateEvents(s, 6, 6, 6, 47);
    const { file, adminPort } = await writeWorkerConfig(s);
    await applySchema(file);
    const half = Math.ceil(events[0]!.length / 2);
    const threeQuarters = Math.ceil((events[0]!.length * 3) / 4);

    const first = await fleet.start(file, adminPort, 'corrupt-1');
    await produceEvents(kafka, s, events, { to: half });
    await waitForCommitted(kafka, s, 2 * half);
    await produceEvents(kafka, s, events, { from: half, to: threeQuarters });
    // A drain checkpoints what has been applied, so wait until the worker has applied 3/4 of both partitions.
    await eventually(
      async () => {
        const status = (await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json()) as {
          partitions: { nextOffset: string | null }[];
        };
        return status.partitions.length === 2 &&
          status.partitions.every((p) => p.nextOffset === String(threeQuarters))
          ? true
          : undefined;
      },
      60_000,
      'the worker to apply 3/4 of the input',
    );
    // Drain: every partition checkpointed at 3/4 (the latest), then the process exits 0.
    const drained = (await (
      await fetch(`http://127.0.0.1:${adminPort}/drain`, { method: 'POST' })
    ).json()) as { checkpoints: { partition: number; id: string; nextOffset: string }[] };
    expect(await first.exited).toBe(0);
    const latest = drained.checkpoints.find((c) => c.partition === 0)!;
    expect(latest.nextOffset).toBe(String(threeQuarters));

    const ls = await cli(['checkpoint', 'ls', '--config', file, '--json'], 'ckpt-ls');
    expect(ls.code).toBe(0);
    const listed = (ls.json as { checkpoints: ListedCheckpoint[] }).checkpoints.filter(
      (c) => c.partition === 0,
    );
    expect(listed.length).toBeGreaterThanOrEqual(2);
    const corrupt = listed.find((c) => c.id === latest.id)!;
    expect(corrupt).toBeDefined();
    const previous = listed
      .filter((c) => c.id !== latest.id)
      .sort((a, b) => Number(b.nextOffset) - Number(a.nextOffset))[0]!;
    expect(Number(previous.nextOffset)).toBeLessThan(threeQuarters);

    await createS3Client(awsConnection).send(
      new PutObjectCommand({ Bucket: s.bucket, Key: corrupt.dataKey, Body: Buffer.from('not a checkpoint') }),
    );
    const ref = ['--pipeline', 'temps', '--topic', s.topic, '--partition', '0'];
    const inspected = await cli(
      ['checkpoint', 'inspect', '--config', file, ...ref, '--id', corrupt.id, '--json'],
      'ckpt-inspect',
    );
    expect(inspected.code).toBe(1);
    expect(inspected.json).toMatchObject({ valid: false, id: corrupt.id });

    const second = await fleet.start(file, adminPort, 'corrupt-2');
    await produceEvents(kafka, s, events, { from: threeQuarters, closeWindows: true });
    await expectExactly(s, referenceRows(events, s.windowMs));
    const log = (await readFile(second.logFile, 'utf8')).split('\n').filter((l) => l.startsWith('{'));
    const entries = log.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toContainEqual(
      expect.objectContaining({
        msg: 'skipping an invalid checkpoint; trying the previous one',
        partition: 0,
        checkpoint: corrupt.id,
      }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({
        msg: 'restored partition from checkpoint',
        partition: 0,
        checkpoint: previous.id,
        nextOffset: previous.nextOffset,
      }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({ msg: 'seeking back to the restored checkpoint', partition: 0 }),
    );
  });
});
