import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'cassandra-driver';
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import { EngineProcessorFactory } from '../../aggregator/worker/engine-processor.js';
import { NoticeWatcher } from '../../aggregator/worker/notice-watcher.js';
import { type DrainReport, Worker } from '../../aggregator/worker/worker.js';
import { createCloudWatchClient } from '../aws/aws-clients.js';
import { CloudWatchPublisher } from '../aws/cloudwatch-publisher.js';
import { ImdsNoticeSource } from '../aws/imds-notice-source.js';
import { createCassandraClient } from '../cassandra/cassandra-client.js';
import { createCheckpointStore } from '../checkpoint/create-checkpoint-store.js';
import { ConfigError } from '../config/config-error.js';
import type { LiveAggConfig } from '../config/config-schema.js';
import { AdminServer } from '../http/admin-server.js';
import { createKafka } from '../kafka/kafka-client.js';
import { KafkaDeadLetterSink } from '../kafka/kafka-dead-letter-sink.js';
import { KafkaRecordSource } from '../kafka/kafka-record-source.js';
import type { Logger } from '../log/logger.js';
import { PromWorkerMetrics } from '../metrics/prom-worker-metrics.js';
import { buildSinks } from './build-sinks.js';
import { setUpWorkerProcess } from './worker-process-setup.js';

/**
 * Runs one worker until it has drained (SIGTERM/SIGINT, `POST /drain`, or a spot notice):
 * builds every adapter from the validated config, serves the admin API, and returns the
 * drain report once everything it opened is closed.
 */
export async function runWorker(cfg: LiveAggConfig, log: Logger): Promise<DrainReport> {
  const w = cfg.worker;
  if (!w)
    throw new ConfigError('config', ['worker: is required to run a worker (see README: Configuration)']);
  if (cfg.pipelines.length === 0)
    throw new ConfigError('config', ['pipelines: declares no pipeline; a worker needs at least one']);

  const notices = w.notices.enabled ? new ImdsNoticeSource(cfg.aws.imdsEndpoint) : undefined;
  const instanceId = w.notices.enabled ? await notices?.instanceId().catch(() => undefined) : undefined;
  const id = w.id ?? instanceId ?? `${hostname()}:${process.pid}`;
  const wlog = log.child({ worker: id });
  // Series dictionaries look keys up in WebAssembly once the kernel is compiled.
  const setup = await setUpWorkerProcess();
  if (setup.v8Flags.length > 0) wlog.info({ v8Flags: setup.v8Flags }, 'worker V8 flags set');
  wlog.info({ keyLookup: 'webassembly', compileMs: setup.keyLookupCompileMs }, 'series key lookup compiled');
  const metrics = new PromWorkerMetrics();
  const kafka = createKafka(cfg.kafka, wlog, `-${id}`);
  const factory = new EngineProcessorFactory(cfg.pipelines, w.memory);

  await assertTopicsExist(kafka, factory.topics());
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: true,
    idempotent: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  let cassandra: Client | undefined;
  const sinks = buildSinks(
    cfg,
    {
      cassandra: () => {
        cassandra ??= createCassandraClient(cfg.cassandra);
        return cassandra;
      },
      producer: () => producer,
    },
    w.sink.concurrency,
  );
  if (cassandra) await (cassandra as Client).connect();

  const source = new KafkaRecordSource(
    kafka,
    {
      groupId: w.groupId,
      topics: factory.topics(),
      sessionTimeoutMs: w.sessionTimeoutMs,
      heartbeatIntervalMs: w.heartbeatIntervalMs,
      maxBytesPerPartition: w.maxBytesPerPartition,
    },
    wlog,
  );
  const worker = new Worker({
    id,
    source,
    factory,
    checkpoints: createCheckpointStore(w.checkpoint, cfg.aws, wlog, id),
    sinkFor: (pipeline) => sinks.get(pipeline)!,
    deadLetters: new KafkaDeadLetterSink(producer, w.deadLetterTopic),
    metrics,
    log: wlog,
    now: () => Date.now(),
    sleep: (ms) => sleep(ms),
    options: {
      checkpointIntervalMs: w.checkpoint.intervalMs,
      drainTimeoutMs: w.drainTimeoutMs,
      sinkRetryBaseDelayMs: w.sink.retryBaseDelayMs,
      sinkRetryMaxDelayMs: w.sink.retryMaxDelayMs,
      maxPendingWrites: w.sink.maxPendingWrites,
      maxRowsPerWrite: w.sink.maxRowsPerWrite,
      tickMs: Math.min(1000, w.checkpoint.intervalMs),
    },
  });

  const admin = new AdminServer(
    {
      healthy: () => true,
      ready: () => worker.ready(),
      metrics: () => metrics.text(),
      status: async () => worker.status(),
      drain: (reason) => worker.drain(reason),
      checkpoint: async () => ({ checkpoints: await worker.checkpointNow() }),
    },
    { host: w.admin.host, port: w.admin.port, ...(w.admin.token ? { token: w.admin.token } : {}) },
    (msg, fields) => wlog.info(fields ?? {}, msg),
  );
  const address = await admin.start();
  wlog.info(
    {
      admin: `http://${address.host}:${address.port}`,
      pipelines: cfg.pipelines.map((p) => p.name),
      topics: factory.topics(),
    },
    'worker starting',
  );

  const onSignal = (signal: string) => {
    wlog.info({ signal }, 'signal received: draining');
    void worker.drain(signal);
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));

  const watcher = notices
    ? new NoticeWatcher(
        notices,
        (reason, deadline) => worker.drain(reason, deadline),
        {
          pollIntervalMs: w.notices.pollIntervalMs,
          drainOnRebalance: w.notices.drainOnRebalance,
          safetyMarginMs: 10_000,
          rebalanceDrainBudgetMs: w.drainTimeoutMs,
        },
        wlog,
        () => Date.now(),
      )
    : undefined;
  watcher?.start();

  let publishTimer: NodeJS.Timeout | undefined;
  if (w.cloudwatch.enabled) {
    const publisher = new CloudWatchPublisher(createCloudWatchClient(cfg.aws), metrics.registry, {
      instanceId: id,
      instanceType: w.cloudwatch.instanceType ?? 'unknown',
    });
    publishTimer = setInterval(() => {
      publisher
        .publish()
        .catch((err: unknown) => wlog.warn({ err: (err as Error).message }, 'CloudWatch publish failed'));
    }, w.cloudwatch.intervalMs);
    publishTimer.unref();
  }

  await worker.start();
  // Resolves when a drain (signal, admin API or notice) has run to its end.
  const report = await waitForDrain(worker);
  watcher?.stop();
  clearInterval(publishTimer);
  await Promise.allSettled([...sinks.values()].map((s) => s.close()));
  await producer.disconnect().catch(() => undefined);
  await cassandra?.shutdown().catch(() => undefined);
  await admin.stop();
  return report;
}

/** Source topics must exist: a worker waiting on a typo would look healthy and do nothing. */
async function assertTopicsExist(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      throw new ConfigError('config', [
        `pipelines[].source.topics: ${missing.map((t) => JSON.stringify(t)).join(', ')} does not exist on the Kafka cluster — create it (kafka-topics --create) or fix the name`,
      ]);
    }
  } finally {
    await admin.disconnect();
  }
}

async function waitForDrain(worker: Worker): Promise<DrainReport> {
  for (;;) {
    const pending = worker.pendingDrain();
    if (pending) return pending;
    await sleep(200);
  }
}
