import { afterEach, describe, expect, it } from 'vitest';
import { startImdsScenario } from '../../infra/local/imds-service.js';
import {
  diffResults,
  generateEvents,
  newScenario,
  produceEvents,
  readResults,
  referenceRows,
  type Scenario,
  writeWorkerConfig,
} from '../integration/helpers/aggregation-scenario.js';
import { type CliProcess, eventually, startCli } from '../integration/helpers/cli-process.js';
import { kafkaClient, scenarioPort } from '../integration/helpers/stack-endpoints.js';

const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  for (const c of cleanups.splice(0)) await c();
});

async function startWorker(file: string, adminPort: number, name: string): Promise<CliProcess> {
  const p = startCli(['worker', '--config', file], { name });
  running.push(p);
  await eventually(
    async () => ((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).ok ? true : undefined),
    60_000,
    `${name} up`,
  );
  return p;
}

async function schema(file: string): Promise<void> {
  expect(await startCli(['schema', 'apply', '--config', file], { name: 'schema' }).exited).toBe(0);
}

async function expectExactly(s: Scenario, expected: ReturnType<typeof referenceRows>): Promise<void> {
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

/** Waits until the worker has committed offsets (so a checkpoint exists) on at least one partition. */
async function waitForCommit(s: Scenario): Promise<void> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    await eventually(
      async () => {
        const offsets = await admin.fetchOffsets({ groupId: s.groupId, topics: [s.topic] });
        return offsets.some((t) => t.partitions.some((p) => Number(p.offset) > 0)) ? true : undefined;
      },
      60_000,
      'a committed offset',
    );
  } finally {
    await admin.disconnect();
  }
}

describe('worker faults: the output equals a fault-free run, exactly', () => {
  it('survives kill -9 mid-stream, several times, with restarts', async () => {
    const kafka = kafkaClient();
    const s = await newScenario(kafka, 3);
    const events = generateEvents(s, 9, 6, 6, 11);
    const { file, adminPort } = await writeWorkerConfig(s);
    await schema(file);
    const third = Math.ceil(events[0]!.length / 3);

    let worker = await startWorker(file, adminPort, 'crash-1');
    await produceEvents(kafka, s, events, { to: third });
    await waitForCommit(s);
    worker.child.kill('SIGKILL');
    await worker.exited;

    worker = await startWorker(file, adminPort, 'crash-2');
    await produceEvents(kafka, s, events, { from: third, to: 2 * third });
    await new Promise((r) => setTimeout(r, 3000));
    worker.child.kill('SIGKILL');
    await worker.exited;

    await startWorker(file, adminPort, 'crash-3');
    await produceEvents(kafka, s, events, { from: 2 * third, closeWindows: true });
    await expectExactly(s, referenceRows(events, s.windowMs));
  });

  it("moves a killed worker's partitions to the survivor, which restores their checkpoints", async () => {
    const kafka = kafkaClient();
    const s = await newScenario(kafka, 4);
    const events = generateEvents(s, 8, 6, 6, 23);
    const a = await writeWorkerConfig(s, scenarioPort(1));
    const b = await writeWorkerConfig(s, scenarioPort(2));
    await schema(a.file);
    const victim = await startWorker(a.file, a.adminPort, 'pair-a');
    await startWorker(b.file, b.adminPort, 'pair-b');
    const half = Math.ceil(events[0]!.length / 2);
    await produceEvents(kafka, s, events, { to: half });
    await waitForCommit(s);
    victim.child.kill('SIGKILL');
    await produceEvents(kafka, s, events, { from: half, closeWindows: true });
    await expectExactly(s, referenceRows(events, s.windowMs));
  });

  it('drains within a spot interruption notice; the survivor resumes from its checkpoints', async () => {
    const kafka = kafkaClient();
    const s = await newScenario(kafka, 2);
    const events = generateEvents(s, 6, 6, 6, 31);
    const imdsPort = scenarioPort(3);
    const imdsEndpoint = `http://127.0.0.1:${imdsPort}`;
    const noticed = await writeWorkerConfig(
      s,
      scenarioPort(4),
      { notices: { enabled: true, pollIntervalMs: 500 } },
      { imdsEndpoint },
    );
    const survivor = await writeWorkerConfig(s, scenarioPort(5));
    await schema(noticed.file);
    const [interrupted] = await Promise.all([
      startWorker(noticed.file, noticed.adminPort, 'spot-victim'),
      startWorker(survivor.file, survivor.adminPort, 'spot-survivor'),
    ]);
    await produceEvents(kafka, s, events, { to: Math.ceil(events[0]!.length / 2) });
    const owned = await eventually(
      async () => {
        const status = (await (await fetch(`http://127.0.0.1:${noticed.adminPort}/status`)).json()) as {
          partitions: { nextOffset: string | null }[];
        };
        return status.partitions.some((p) => p.nextOffset !== null) ? status.partitions.length : undefined;
      },
      30_000,
      'the victim consuming a partition before its notice',
    );
    expect(owned).toBeGreaterThan(0);
    // Until now the metadata endpoint did not answer (polls failed harmlessly); the notice comes 3 s after it does.
    const imds = await startImdsScenario({ port: imdsPort, action: 'terminate', delaySec: 3 });
    cleanups.push(() => imds.stop());
    // The worker must drain and exit 0 well within the notice's 2 minutes.
    expect(await interrupted.exited).toBe(0);
    await produceEvents(kafka, s, events, { from: Math.ceil(events[0]!.length / 2), closeWindows: true });
    await expectExactly(s, referenceRows(events, s.windowMs));
  });
});
