import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  generateEvents,
  newScenario,
  produceEvents,
  readResults,
  referenceRows,
  writeWorkerConfig,
} from '../integration/helpers/aggregation-scenario.js';
import {
  awsEndpoint,
  cassandraContactPoint,
  kafkaClient,
  scenarioPort,
} from '../integration/helpers/stack-endpoints.js';
import { startTcpProxy } from '../integration/helpers/tcp-proxy.js';
import {
  appliedRecords,
  applySchema,
  committedOffsets,
  editConfig,
  expectExactly,
  sleep,
  WorkerFleet,
  waitForApplied,
  waitForCommitted,
} from '../integration/helpers/worker-harness.js';

const fleet = new WorkerFleet();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  fleet.killAll();
  for (const c of cleanups.splice(0)) await c();
});

function portOf(hostPort: string): number {
  return Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
}

describe('worker outages of its dependencies: the output equals a fault-free run, exactly', () => {
  it('S3 down: checkpoints retry, offsets stay at the last durable checkpoint; kill -9 during the outage', async () => {
    const kafka = kafkaClient();
    const s = await newScenario(kafka, 2);
    const events = generateEvents(s, 6, 6, 6, 41);
    const s3 = await startTcpProxy(Number(new URL(awsEndpoint).port));
    cleanups.push(() => s3.close());
    const { file, adminPort } = await writeWorkerConfig(
      s,
      scenarioPort(),
      {},
      { endpoint: `http://127.0.0.1:${s3.port}` },
    );
    await applySchema(file);
    const third = Math.ceil(events[0]!.length / 3);

    const worker = await fleet.start(file, adminPort, 's3-outage-1');
    await produceEvents(kafka, s, events, { to: third });
    expect(await waitForCommitted(kafka, s, 2 * third)).toEqual([third, third]);
    expect(s3.connections()).toBeGreaterThan(0);

    s3.pause();
    await sleep(1500);
    const before = await committedOffsets(kafka, s);
    await produceEvents(kafka, s, events, { from: third, to: 2 * third });
    // Consumption goes on (state in memory), but no checkpoint is durable, so nothing is committed.
    await waitForApplied(adminPort, 4 * third, 60_000);
    await sleep(4000);
    expect(await committedOffsets(kafka, s)).toEqual(before);
    expect(await readFile(worker.logFile, 'utf8')).toContain('checkpoint storage failed; retrying');

    await fleet.kill(worker);
    s3.resume();
    await fleet.start(file, adminPort, 's3-outage-2');
    await produceEvents(kafka, s, events, { from: 2 * third, closeWindows: true });
    await expectExactly(s, referenceRows(events, s.windowMs));
  });

  it('S3 blackholed (silent, not refused): checkpoint calls time out, consumption goes on, then checkpoints resume', async () => {
    const kafka = kafkaClient();
    const s = await newScenario(kafka, 2);
    const events = generateEvents(s, 6, 6, 6, 45);
    const s3 = await startTcpProxy(Number(new URL(awsEndpoint).port));
    cleanups.push(() => s3.close());
    const { file, adminPort } = await writeWorkerConfig(
      s,
      scenarioPort(),
      {},
      { endpoint: `http://127.0.0.1:${s3.port}` },
    );
    await applySchema(file);
    const third = Math.ceil(events[0]!.length / 3);

    const worker = await fleet.start(file, adminPort, 's3-blackhole');
    await produceEvents(kafka, s, events, { to: third });
    expect(await waitForCommitted(kafka, s, 2 * third)).toEqual([third, third]);

    s3.pause('blackhole');
    await sleep(1500);
    const before = await committedOffsets(kafka, s);
    await produceEvents(kafka, s, events, { from: third, to: 2 * third });
    // A hung checkpoint must not stall the worker (it holds the partitions' lock) for ever.
    await waitForApplied(adminPort, 4 * third, 60_000);
    expect(await committedOffsets(kafka, s)).toEqual(before);

    // Connections silenced by the outage stay silent: only new ones work again.
    s3.resume();
    await produceEvents(kafka, s, events, { from: 2 * third, closeWindows: true });
    await expectExactly(s, referenceRows(events, s.windowMs));
    const total = events.reduce((a, e) => a + e.length, 0) + s.partitions;
    await waitForCommitted(kafka, s, total);
    expect(await readFile(worker.logFile, 'utf8')).not.toContain(
      'The coordinator is not aware of this member',
    );
  });

  it('Cassandra down: results stop, the worker does not commit past unwritten results, then catches up', async () => {
    const kafka = kafkaClient();
    const s = await newScenario(kafka, 2);
    const events = generateEvents(s, 6, 6, 6, 43);
    const cql = await startTcpProxy(portOf(cassandraContactPoint));
    cleanups.push(() => cql.close());
    const { file, adminPort } = await writeWorkerConfig(s);
    await applySchema(file);
    // The worker (only) reaches Cassandra through the proxy. The driver keys the contact node by
    // the contact point it dialled (not system.local's rpc_address); one node has no peers.
    await editConfig(file, (doc) => {
      (doc['cassandra'] as { contactPoints: string[] }).contactPoints = [`127.0.0.1:${cql.port}`];
    });
    const third = Math.ceil(events[0]!.length / 3);

    const worker = await fleet.start(file, adminPort, 'cql-outage');
    await produceEvents(kafka, s, events, { to: third });
    await waitForCommitted(kafka, s, 2 * third);
    const early = await readResults(s);
    expect(early.size).toBeGreaterThan(0);
    expect(cql.connections()).toBeGreaterThan(0);

    cql.pause();
    await produceEvents(kafka, s, events, { from: third, to: 2 * third });
    // Let the worker run into the outage: windows close, their writes fail and are retried.
    await sleep(6000);
    const frozen = { committed: await committedOffsets(kafka, s), applied: await appliedRecords(adminPort) };
    const results = await readResults(s);
    await sleep(5000);
    expect(await committedOffsets(kafka, s)).toEqual(frozen.committed);
    expect(await appliedRecords(adminPort)).toBe(frozen.applied);
    expect((await readResults(s)).size).toBe(results.size);
    expect(frozen.committed.reduce((a, b) => a + b, 0)).toBeLessThan(4 * third);
    const log = await readFile(worker.logFile, 'utf8');
    expect(log).toContain('sink write failed; retrying');
    // Retries heartbeat: an outage longer than the session timeout (10 s) keeps the membership.
    expect(log).not.toContain('The coordinator is not aware of this member');

    cql.resume();
    await produceEvents(kafka, s, events, { from: 2 * third, closeWindows: true });
    await expectExactly(s, referenceRows(events, s.windowMs));
  });
});
