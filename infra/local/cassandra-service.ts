import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'cassandra-driver';
import {
  CASSANDRA_COORDINATES,
  CASSANDRA_VERSION,
  type CassandraLayout,
  CQL_READY_LINE,
  cassandraJvmArgs,
  cassandraLayout,
  JAMM_JAR,
  LOCAL_DATA_CENTER,
  renderCassandraYaml,
  renderLogback,
} from './cassandra-config.js';
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
  startDetached,
  stopProcess,
  tailFile,
  waitFor,
} from './process-runner.js';
import type { StackConfig } from './stack-config.js';

/** Apache Cassandra 5.0, one node on 127.0.0.1, jars of `cassandra-all` from Maven Central, Java 17. */
export class CassandraService implements LocalService {
  readonly name = 'cassandra' as const;
  private readonly paths: StackPaths;
  private readonly layout: CassandraLayout;
  private java: string | undefined;

  constructor(private readonly config: StackConfig) {
    this.paths = stackPaths(config);
    this.layout = cassandraLayout(this.paths.serviceDir('cassandra'));
  }

  get endpoint(): string {
    return `127.0.0.1:${this.config.cassandraPort}`;
  }

  private get marker(): string {
    return `liveagg-cassandra@${this.paths.stateDir}`;
  }

  private get libDir(): string {
    return join(this.paths.cacheDir, 'cassandra-lib');
  }

  private get systemLog(): string {
    return join(this.layout.logDir, 'system.log');
  }

  async checkPrerequisites(): Promise<void> {
    this.java = await findJava(17);
    if (!this.java)
      throw new StackError(
        'cassandra',
        'JAVA_MISSING',
        'java 17 not found (looked at $JAVA_HOME, PATH and /usr/lib/jvm; Cassandra 5.0 runs on 11 or 17 only)',
        'install openjdk-17-jdk-headless or set JAVA_HOME to a JDK 17',
      );
    if (
      !existsSync(join(this.libDir, '.liveagg-complete')) &&
      (await commandVersion('mvn', ['-v'])) === undefined
    )
      throw new StackError(
        'cassandra',
        'MVN_MISSING',
        'mvn not found',
        'install Maven (apt-get install maven)',
      );
  }

  async install(progress: ProgressReporter): Promise<void> {
    await fetchMavenDeps({
      service: 'cassandra',
      name: 'cassandra',
      coordinates: CASSANDRA_COORDINATES,
      cacheDir: this.paths.cacheDir,
      progress,
    });
    if (!existsSync(join(this.libDir, JAMM_JAR)))
      throw new StackError(
        'cassandra',
        'JAMM_MISSING',
        `${JAMM_JAR} is not in ${this.libDir}`,
        `remove ${this.libDir} and rerun so Maven resolves cassandra-all ${CASSANDRA_VERSION} again`,
      );
  }

  /** Pid of the running node this stack started, if any. */
  runningPid(): number | undefined {
    return recordedPid(this.paths.pidFile('cassandra'), this.marker);
  }

  async start(progress: ProgressReporter): Promise<void> {
    const timeoutMs = this.config.readyTimeoutSec * 1000;
    const existing = this.runningPid();
    if (existing !== undefined) {
      progress('cassandra', `already running (pid ${existing}), checking it answers`);
      await this.waitReady(existing, timeoutMs);
      return;
    }
    for (const port of [this.config.cassandraPort, this.config.cassandraStoragePort]) {
      if (!(await isPortFree(port)))
        throw new StackError(
          'cassandra',
          'PORT_TAKEN',
          `port ${port} on 127.0.0.1 is taken by another process`,
          `stop that process (ss -ltnp 'sport = :${port}') or set stack.cassandraPort/stack.cassandraStoragePort in the config`,
        );
    }
    const java = this.java ?? (await findJava(17));
    if (!java)
      throw new StackError(
        'cassandra',
        'JAVA_MISSING',
        'java 17 not found',
        'install openjdk-17-jdk-headless or set JAVA_HOME to a JDK 17',
      );
    const { confDir, dataDir, logDir } = this.layout;
    for (const d of [join(confDir, 'triggers'), dataDir, logDir]) mkdirSync(d, { recursive: true });
    writeFileSync(
      join(confDir, 'cassandra.yaml'),
      renderCassandraYaml({
        nativePort: this.config.cassandraPort,
        storagePort: this.config.cassandraStoragePort,
        dataDir,
      }),
    );
    writeFileSync(join(confDir, 'logback.xml'), renderLogback());
    // The readiness line must come from this run, not an earlier one.
    rmSync(this.systemLog, { force: true });
    progress('cassandra', `starting Cassandra ${CASSANDRA_VERSION} on ${this.endpoint}`);
    const pid = startDetached({
      command: java,
      args: cassandraJvmArgs({ libDir: this.libDir, layout: this.layout, marker: this.marker }),
      logFile: this.paths.logFile('cassandra'),
      pidFile: this.paths.pidFile('cassandra'),
      marker: this.marker,
      cwd: this.paths.serviceDir('cassandra'),
    });
    try {
      await this.waitReady(pid, timeoutMs);
    } catch (err) {
      // Leave nothing half-started.
      await stopProcess(pid, 10_000);
      removePidFile(this.paths.pidFile('cassandra'));
      throw err;
    }
  }

  /** Ready = the node logged that it listens for CQL clients AND a CQL query answers. */
  private async waitReady(pid: number, timeoutMs: number): Promise<void> {
    try {
      await waitFor(
        async () => {
          if (!this.loggedReady()) return false;
          const h = await this.health();
          if (!h.ok) throw new Error(h.error);
          return true;
        },
        timeoutMs,
        `Cassandra on ${this.endpoint} to answer a CQL query`,
        {
          intervalMs: 500,
          abort: () => {
            if (!isAlive(pid))
              throw new Error(
                `the node exited: ${tailFile(this.paths.logFile('cassandra'), 5)} ${tailFile(this.systemLog, 5)}`,
              );
          },
        },
      );
    } catch (err) {
      throw new StackError(
        'cassandra',
        'NOT_READY',
        (err as Error).message,
        `see ${this.paths.logFile('cassandra')} and ${this.systemLog}`,
      );
    }
  }

  private loggedReady(): boolean {
    try {
      return readFileSync(this.systemLog, 'utf8').includes(CQL_READY_LINE);
    } catch {
      return false;
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
      await queryReleaseVersion(this.endpoint);
      return { ...base, ok: true };
    } catch (err) {
      return { ...base, error: (err as Error).message.split('\n')[0] ?? 'unknown error' };
    }
  }

  async stop(progress: ProgressReporter): Promise<void> {
    const pid = this.runningPid();
    if (pid === undefined) {
      removePidFile(this.paths.pidFile('cassandra'));
      return;
    }
    progress('cassandra', `stopping pid ${pid}`);
    await stopProcess(pid, 30_000);
    removePidFile(this.paths.pidFile('cassandra'));
  }
}

/** `SELECT release_version FROM system.local` through cassandra-driver; resolves with the version. */
export async function queryReleaseVersion(endpoint: string): Promise<string> {
  const client = new Client({
    contactPoints: [endpoint],
    localDataCenter: LOCAL_DATA_CENTER,
    socketOptions: { connectTimeout: 2000, readTimeout: 5000 },
  });
  try {
    const rs = await client.execute('SELECT release_version FROM system.local');
    const v: unknown = rs.first()?.get('release_version');
    if (typeof v !== 'string') throw new Error('system.local returned no release_version');
    return v;
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}
