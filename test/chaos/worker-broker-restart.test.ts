import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaService } from '../../infra/local/kafka-service.js';
import { type StackConfig, stackConfigSchema } from '../../infra/local/stack-config.js';
import {
  generateEvents,
  newScenario,
  produceEvents,
  referenceRows,
  writeWorkerConfig,
} from '../integration/helpers/aggregation-scenario.js';
import {
  applySchema,
  editConfig,
  expectExactly,
  freePort,
  sleep,
  WorkerFleet,
  waitForApplied,
  waitForCommitted,
} from '../integration/helpers/worker-harness.js';

const fleet = new WorkerFleet();
const quiet = () => {};
let stateDir: string;
let broker: KafkaService;
let config: StackConfig;

// A private broker (the shared one must not be restarted): its own ports and state directory,
// the jars from the shared cache. Starting a JVM broker on this loaded machine can take a minute.
beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'la-private-kafka-'));
  const defaults = stackConfigSchema.parse({});
  config = stackConfigSchema.parse({
    stateDir,
    kafkaPort: await freePort(),
    kafkaControllerPort: await freePort(),
    readyTimeoutSec: 180,
    cassandraPort: defaults.cassandraPort,
    awsPort: defaults.awsPort,
  });
  broker = new KafkaService(config);
  await broker.start(quiet);
}, 240_000);

afterAll(async () => {
  fleet.killAll();
  await broker?.stop(quiet);
  await rm(stateDir, { recursive: true, force: true });
}, 60_000);

describe('a Kafka broker restart', () => {
  it('mid-stream: the worker reconnects and the output equals a fault-free run, exactly', async () => {
    const kafka = new Kafka({
      clientId: 'la-broker-restart',
      brokers: [broker.endpoint],
      logLevel: logLevel.NOTHING,
      retry: { retries: 12, initialRetryTime: 300 },
    });
    const s = await newScenario(kafka, 2);
    const events = generateEvents(s, 6, 6, 6, 53);
    const { file, adminPort } = await writeWorkerConfig(s);
    await editConfig(file, (doc) => {
      (doc['kafka'] as { brokers: string[] }).brokers = [broker.endpoint];
    });
    await applySchema(file);
    const third = Math.ceil(events[0]!.length / 3);

    const worker = await fleet.start(file, adminPort, 'broker-restart');
    await produceEvents(kafka, s, events, { to: third });
    await waitForCommitted(kafka, s, 2 * third);
    await produceEvents(kafka, s, events, { from: third, to: 2 * third });
    await waitForApplied(adminPort, 2 * third + 1);

    // Mid-stream: stop the broker (it may hold uncommitted progress), keep it down, start it again.
    await broker.stop(quiet);
    await sleep(3000);
    await broker.start(quiet);

    await produceEvents(kafka, s, events, { from: 2 * third, closeWindows: true });
    await expectExactly(s, referenceRows(events, s.windowMs));
    expect(worker.child.exitCode).toBeNull();
  }, 240_000);
});
