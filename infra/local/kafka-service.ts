import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { findJava } from './java-home.js';
import { type LocalService, type ProgressReporter, type ServiceHealth, StackError } from './local-service.js';
import { fetchMavenDeps } from './maven-fetch.js';
import { type StackPaths, stackPaths } from './paths.js';
import {
  commandVersion,
  isAlive,
  isPortFree,
  recordedPid,
  removePidFile,
  rssBytes,
  runCommand,
  startDetached,
  stopProcess,
  tailFile,
  waitFor,
} from './process-runner.js';
import type { StackConfig } from './stack-config.js';

export const KAFKA_VERSION = '4.1.1';
export const KAFKA_COORDINATES = [
  `org.apache.kafka:kafka_2.13:${KAFKA_VERSION}`,
  'org.apache.logging.log4j:log4j-slf4j2-impl:2.24.3',
  'org.apache.logging.log4j:log4j-core:2.24.3',
  // Kafka's tree pins slf4j-api 1.7 (nearest wins), which cannot see the slf4j2 binding: ask for 2.x.
  'org.slf4j:slf4j-api:2.0.16',
];
const HEALTH_TOPIC = '__liveagg_health';

/** server.properties of a single combined broker+controller in KRaft mode on 127.0.0.1. */
export function renderServerProperties(opts: {
  port: number;
  controllerPort: number;
  logDir: string;
}): string {
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${opts.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${opts.port},CONTROLLER://127.0.0.1:${opts.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${opts.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': opts.logDir,
    'num.partitions': 1,
    'default.replication.factor': 1,
    // One node: every internal topic must have replication factor 1 (kafkajs#1752 otherwise).
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 4,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 4,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': true,
    'delete.topic.enable': true,
    'log.retention.hours': 24,
  };
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

/** log4j2 configuration: WARN and above to one file (the broker is chatty at INFO). */
export function renderLog4j2(logFile: string): string {
  return [
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = FILE',
    `appender.file.fileName = ${logFile}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = WARN',
    'rootLogger.appenderRef.file.ref = FILE',
    'logger.started.name = kafka.server.KafkaRaftServer',
    'logger.started.level = INFO',
    '',
  ].join('\n');
}

/** Apache Kafka 4.x, KRaft, one combined broker+controller, jars from Maven Central. */
export class KafkaService implements LocalService {
  readonly name = 'kafka' as const;
  private readonly paths: StackPaths;
  private java: string | undefined;

  constructor(private readonly config: StackConfig) {
    this.paths = stackPaths(config);
  }

  get endpoint(): string {
    return `127.0.0.1:${this.config.kafkaPort}`;
  }

  private get marker(): string {
    return `liveagg-kafka@${this.paths.stateDir}`;
  }

  private get libDir(): string {
    return join(this.paths.cacheDir, 'kafka-lib');
  }

  async checkPrerequisites(): Promise<void> {
    this.java = await findJava(17);
    if (!this.java)
      throw new StackError(
        'kafka',
        'JAVA_MISSING',
        'java 17 not found (looked at $JAVA_HOME, PATH and /usr/lib/jvm)',
        'install openjdk-17-jdk-headless or set JAVA_HOME to a JDK 17',
      );
    if (
      !existsSync(join(this.libDir, '.liveagg-complete')) &&
      (await commandVersion('mvn', ['-v'])) === undefined
    )
      throw new StackError('kafka', 'MVN_MISSING', 'mvn not found', 'install Maven (apt-get install maven)');
  }

  async preflight(): Promise<void> {
    if (this.runningPid() !== undefined) return;
    for (const port of [this.config.kafkaPort, this.config.kafkaControllerPort]) {
      if (!(await isPortFree(port)))
        throw new StackError(
          'kafka',
          'PORT_TAKEN',
          `port ${port} on 127.0.0.1 is taken by another process`,
          `stop that process (ss -ltnp 'sport = :${port}') or set stack.kafkaPort/stack.kafkaControllerPort in the config`,
        );
    }
  }

  async install(progress: ProgressReporter): Promise<void> {
    await fetchMavenDeps({
      service: 'kafka',
      name: 'kafka',
      coordinates: KAFKA_COORDINATES,
      cacheDir: this.paths.cacheDir,
      progress,
    });
  }

  /** Pid of the running broker this stack started, if any. */
  runningPid(): number | undefined {
    return recordedPid(this.paths.pidFile('kafka'), this.marker);
  }

  async start(progress: ProgressReporter): Promise<void> {
    const timeoutMs = this.config.readyTimeoutSec * 1000;
    const existing = this.runningPid();
    if (existing !== undefined) {
      progress('kafka', `already running (pid ${existing}), checking it answers`);
      await this.waitReady(existing, timeoutMs);
      return;
    }
    for (const port of [this.config.kafkaPort, this.config.kafkaControllerPort]) {
      if (!(await isPortFree(port)))
        throw new StackError(
          'kafka',
          'PORT_TAKEN',
          `port ${port} on 127.0.0.1 is taken by another process`,
          `stop that process (ss -ltnp 'sport = :${port}') or set stack.kafkaPort/stack.kafkaControllerPort in the config`,
        );
    }
    const java = this.java ?? (await findJava(17));
    if (!java)
      throw new StackError('kafka', 'JAVA_MISSING', 'java 17 not found', 'install openjdk-17-jdk-headless');
    const dir = this.paths.serviceDir('kafka');
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const propsFile = join(dir, 'server.properties');
    writeFileSync(
      propsFile,
      renderServerProperties({
        port: this.config.kafkaPort,
        controllerPort: this.config.kafkaControllerPort,
        logDir: dataDir,
      }),
    );
    const log4j = join(dir, 'log4j2.properties');
    writeFileSync(log4j, renderLog4j2(join(dir, 'server.log')));
    const cp = `${this.libDir}/*`;
    const jvmLog = `-Dlog4j2.configurationFile=${log4j}`;
    if (!existsSync(join(dataDir, 'meta.properties'))) {
      progress('kafka', 'formatting KRaft storage');
      const clusterId = (
        await runCommand(java, ['-cp', cp, jvmLog, 'kafka.tools.StorageTool', 'random-uuid'])
      )
        .trim()
        .split('\n')
        .pop();
      await runCommand(java, [
        '-cp',
        cp,
        jvmLog,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId ?? '',
        '-c',
        propsFile,
        '--ignore-formatted',
      ]).catch((err: Error) => {
        throw new StackError(
          'kafka',
          'FORMAT_FAILED',
          `storage format failed: ${err.message}`,
          `remove ${dataDir} and rerun`,
        );
      });
    }
    progress('kafka', `starting Kafka ${KAFKA_VERSION} on ${this.endpoint}`);
    const pid = startDetached({
      command: java,
      args: [
        '-Xms256m',
        '-Xmx512m',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        jvmLog,
        `-Dkafka.logs.dir=${dir}`,
        `-Dliveagg.marker=${this.marker}`,
        '-cp',
        cp,
        'kafka.Kafka',
        propsFile,
      ],
      logFile: this.paths.logFile('kafka'),
      pidFile: this.paths.pidFile('kafka'),
      marker: this.marker,
      cwd: dir,
    });
    await this.waitReady(pid, timeoutMs);
  }

  private async waitReady(pid: number, timeoutMs: number): Promise<void> {
    try {
      await waitFor(
        async () => {
          const h = await this.health();
          if (!h.ok) throw new Error(h.error);
          return true;
        },
        timeoutMs,
        `Kafka on ${this.endpoint} to answer a produce/consume round trip`,
        {
          intervalMs: 1000,
          abort: () => {
            if (!isAlive(pid))
              throw new Error(`the broker exited: ${tailFile(this.paths.logFile('kafka'), 5)}`);
          },
        },
      );
    } catch (err) {
      throw new StackError(
        'kafka',
        'NOT_READY',
        (err as Error).message,
        `see ${this.paths.logFile('kafka')} and ${join(this.paths.serviceDir('kafka'), 'server.log')}`,
      );
    }
  }

  async health(): Promise<ServiceHealth> {
    const pid = this.runningPid();
    const base: ServiceHealth = { ok: false, endpoint: this.endpoint };
    if (pid !== undefined) {
      base.pid = pid;
      const rss = rssBytes(pid);
      if (rss !== undefined) base.rssBytes = rss;
    }
    try {
      await roundTrip(this.endpoint, 20_000);
      return { ...base, ok: true };
    } catch (err) {
      return { ...base, error: (err as Error).message };
    }
  }

  async stop(progress: ProgressReporter): Promise<void> {
    const pid = this.runningPid();
    if (pid === undefined) {
      removePidFile(this.paths.pidFile('kafka'));
      return;
    }
    progress('kafka', `stopping pid ${pid}`);
    await stopProcess(pid, 30_000);
    removePidFile(this.paths.pidFile('kafka'));
  }
}

/** Creates the health topic (if missing), produces one record and consumes it back with a consumer group. */
async function roundTrip(endpoint: string, consumeTimeoutMs: number): Promise<void> {
  const kafka = new Kafka({
    clientId: 'liveagg-stack-health',
    brokers: [endpoint],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 2, initialRetryTime: 200 },
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  // A fresh group per check (deleted afterwards): concurrent checks from several processes
  // never rebalance each other, and a check that timed out leaves no member behind.
  const groupId = `liveagg-stack-health-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
  });
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    if (!topics.includes(HEALTH_TOPIC))
      await admin.createTopics({
        topics: [{ topic: HEALTH_TOPIC, numPartitions: 1, replicationFactor: 1 }],
        waitForLeaders: true,
      });
    const token = `${process.pid}-${Date.now()}-${Math.random()}`;
    await producer.connect();
    await producer.send({ topic: HEALTH_TOPIC, messages: [{ value: token }] });
    await consumer.connect();
    await consumer.subscribe({ topics: [HEALTH_TOPIC], fromBeginning: true });
    const seen = new Promise<void>((resolveSeen, rejectSeen) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            if (message.value?.toString() === token) resolveSeen();
          },
        })
        .catch(rejectSeen);
    });
    await withTimeout(seen, consumeTimeoutMs, 'consuming the health record back');
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
