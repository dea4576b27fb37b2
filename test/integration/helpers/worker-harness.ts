import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Kafka } from 'kafkajs';
import { expect } from 'vitest';
import { parse, stringify } from 'yaml';
import { diffResults, type ExpectedRow, readResults, type Scenario } from './aggregation-scenario.js';
import { type CliProcess, eventually, startCli } from './cli-process.js';

/** Worker processes of a fault test; `killAll()` (in afterEach) SIGKILLs those still running. */
export class WorkerFleet {
  private readonly running: CliProcess[] = [];

  /** Starts `liveagg worker --config file` and waits until its admin API answers. */
  async start(
    file: string,
    adminPort: number,
    name: string,
    env?: Record<string, string>,
  ): Promise<CliProcess> {
    const p = startCli(['worker', '--config', file], env ? { name, env } : { name });
    this.running.push(p);
    await eventually(
      async () => ((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).ok ? true : undefined),
      60_000,
      `${name} up`,
    );
    return p;
  }

  /** kill -9, and waits for the process to be gone. */
  async kill(p: CliProcess): Promise<void> {
    p.child.kill('SIGKILL');
    await p.exited;
  }

  killAll(): void {
    for (const p of this.running.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  }
}

/** `liveagg schema apply` for the scenario's config (creates the keyspace and results table). */
export async function applySchema(file: string): Promise<void> {
  expect(await startCli(['schema', 'apply', '--config', file], { name: 'schema' }).exited).toBe(0);
}

/** Waits until the sink holds exactly the reference rows; fails listing the first differences. */
export async function expectExactly(s: Scenario, expected: Map<string, ExpectedRow>): Promise<void> {
  const actual = await eventually(
    async () => {
      const rows = await readResults(s);
      return rows.size >= expected.size && diffResults(rows, expected).length === 0 ? rows : undefined;
    },
    120_000,
    `${expected.size} exact result rows`,
  ).catch(async (err: Error) => {
    const rows = await readResults(s);
    throw new Error(`${err.message}; differences: ${diffResults(rows, expected).slice(0, 10).join('; ')}`);
  });
  expect(diffResults(actual, expected)).toEqual([]);
}

/** The group's committed offset per partition (0 where none is committed). */
export async function committedOffsets(kafka: Kafka, s: Scenario): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [topic] = await admin.fetchOffsets({ groupId: s.groupId, topics: [s.topic] });
    const out = Array.from({ length: s.partitions }, () => 0);
    for (const p of topic?.partitions ?? []) out[p.partition] = Math.max(0, Number(p.offset));
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the group has committed at least `atLeast` records in total (a checkpoint is durable). */
export async function waitForCommitted(kafka: Kafka, s: Scenario, atLeast = 1): Promise<number[]> {
  return eventually(
    async () => {
      const offsets = await committedOffsets(kafka, s);
      return offsets.reduce((a, b) => a + b, 0) >= atLeast ? offsets : undefined;
    },
    60_000,
    `${atLeast} committed records`,
  );
}

/** Sum over a worker's partitions of the next offset its state will apply (admin `/status`). */
export async function appliedRecords(adminPort: number): Promise<number> {
  const status = (await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json()) as {
    partitions: { nextOffset: string | null }[];
  };
  return status.partitions.reduce((a, p) => a + Number(p.nextOffset ?? 0), 0);
}

/** Waits until a worker has applied at least `records` records in total. */
export async function waitForApplied(adminPort: number, records: number, timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => ((await appliedRecords(adminPort)) >= records ? true : undefined),
    timeoutMs,
    `the worker applying ${records} records`,
  );
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Rewrites a YAML config file in place (e.g. to aim one connection at a proxy or another broker). */
export async function editConfig(file: string, edit: (doc: Record<string, unknown>) => void): Promise<void> {
  const doc = parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  edit(doc);
  await writeFile(file, stringify(doc));
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}
