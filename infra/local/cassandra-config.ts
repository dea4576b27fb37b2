import { join } from 'node:path';

export const CASSANDRA_VERSION = '5.0.6';
export const CASSANDRA_COORDINATES = [`org.apache.cassandra:cassandra-all:${CASSANDRA_VERSION}`];
/** The jamm agent Cassandra 5.0 measures object sizes with (a dependency of cassandra-all). */
export const JAMM_JAR = 'jamm-0.4.0.jar';
/** Logged once the native transport accepts connections (by org.apache.cassandra.transport.PipelineConfigurator). */
export const CQL_READY_LINE = 'Starting listening for CQL clients';
/** The data center SimpleSnitch reports; the driver's `localDataCenter` must match it. */
export const LOCAL_DATA_CENTER = 'datacenter1';

/** Where one node keeps its files: `<stateDir>/cassandra/…`. */
export interface CassandraLayout {
  /** `<stateDir>/cassandra/conf`: cassandra.yaml and logback.xml. */
  confDir: string;
  /** `<stateDir>/cassandra/data`: data, commit log, hints, caches. */
  dataDir: string;
  /** `<stateDir>/cassandra/logs`: system.log (WARN and the readiness line). */
  logDir: string;
}

export function cassandraLayout(serviceDir: string): CassandraLayout {
  return {
    confDir: join(serviceDir, 'conf'),
    dataDir: join(serviceDir, 'data'),
    logDir: join(serviceDir, 'logs'),
  };
}

/**
 * A single-node cassandra.yaml for tests: loopback only, one token, no auth, no hints, no
 * auto snapshots, small caches, Cassandra's default memtable space for the heap. Only keys the 5.0 loader accepts (it rejects
 * unknown and pre-4.0 names such as `commitlog_sync_period_in_ms`).
 */
export function renderCassandraYaml(opts: {
  nativePort: number;
  storagePort: number;
  dataDir: string;
  clusterName?: string;
}): string {
  const d = opts.dataDir;
  return [
    `cluster_name: ${opts.clusterName ?? 'liveagg-local'}`,
    'num_tokens: 1',
    'initial_token: 0',
    'partitioner: org.apache.cassandra.dht.Murmur3Partitioner',
    'endpoint_snitch: SimpleSnitch',
    'dynamic_snitch: false',
    'commitlog_sync: periodic',
    'commitlog_sync_period: 10000ms',
    'commitlog_segment_size: 8MiB',
    'seed_provider:',
    '  - class_name: org.apache.cassandra.locator.SimpleSeedProvider',
    '    parameters:',
    `      - seeds: "127.0.0.1:${opts.storagePort}"`,
    'listen_address: 127.0.0.1',
    'rpc_address: 127.0.0.1',
    'start_native_transport: true',
    `native_transport_port: ${opts.nativePort}`,
    `storage_port: ${opts.storagePort}`,
    'authenticator: AllowAllAuthenticator',
    'authorizer: AllowAllAuthorizer',
    'network_authorizer: AllowAllNetworkAuthorizer',
    'role_manager: CassandraRoleManager',
    'auto_snapshot: false',
    'snapshot_before_compaction: false',
    'hinted_handoff_enabled: false',
    // Cassandra's own default for this heap (¼ of 1 GiB). At 64 MiB a benchmark's few hundred thousand result rows
    // were flushed and compacted while they were written (flush + compaction were ~40 % of Cassandra's CPU in a JFR
    // profile), on the two cores the worker needs.
    'memtable_heap_space: 256MiB',
    'memtable_offheap_space: 64MiB',
    'key_cache_size: 8MiB',
    'counter_cache_size: 0MiB',
    'prepared_statements_cache_size: 8MiB',
    // Off-heap chunk cache and network buffers default to 1/4 and 1/16 of the heap: keep RSS small.
    'file_cache_size: 32MiB',
    'networking_cache_size: 16MiB',
    'concurrent_reads: 4',
    'concurrent_writes: 4',
    'concurrent_counter_writes: 4',
    'concurrent_compactors: 1',
    'diagnostic_events_enabled: false',
    'data_file_directories:',
    `  - ${join(d, 'data')}`,
    `commitlog_directory: ${join(d, 'commitlog')}`,
    `saved_caches_directory: ${join(d, 'saved_caches')}`,
    `hints_directory: ${join(d, 'hints')}`,
    `cdc_raw_directory: ${join(d, 'cdc_raw')}`,
    '',
  ].join('\n');
}

/** logback: WARN and above to `<logdir>/system.log`, plus the start-up and readiness lines at INFO. */
export function renderLogback(): string {
  return [
    '<configuration scan="false">',
    '  <appender name="FILE" class="ch.qos.logback.core.FileAppender">',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a logback property, substituted by logback itself
    '    <file>${cassandra.logdir}/system.log</file>',
    '    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>',
    '  </appender>',
    '  <logger name="org.apache.cassandra.transport.PipelineConfigurator" level="INFO"/>',
    '  <logger name="org.apache.cassandra.service.CassandraDaemon" level="INFO"/>',
    '  <root level="WARN"><appender-ref ref="FILE"/></root>',
    '</configuration>',
    '',
  ].join('\n');
}

/** The module flags of Cassandra 5.0's conf/jvm17-server.options (the JVM dies at start-up without them). */
export const JVM17_MODULE_FLAGS: readonly string[] = [
  ...[
    'java.base/jdk.internal.misc',
    'java.management.rmi/com.sun.jmx.remote.internal.rmi',
    'java.rmi/sun.rmi.registry',
    'java.rmi/sun.rmi.server',
    'java.sql/java.sql',
    'java.base/java.lang.ref',
    'jdk.unsupported/sun.misc',
    'jdk.compiler/com.sun.tools.javac.file',
    'jdk.attach/sun.tools.attach',
  ].map((m) => `--add-exports=${m}=ALL-UNNAMED`),
  ...[
    'java.base/java.lang.module',
    'java.base/jdk.internal.loader',
    'java.base/jdk.internal.ref',
    'java.base/jdk.internal.reflect',
    'java.base/jdk.internal.math',
    'java.base/jdk.internal.module',
    'java.base/jdk.internal.util.jar',
    'jdk.management/com.sun.management.internal',
    'java.base/sun.nio.ch',
    'java.base/java.io',
    'java.base/java.lang.reflect',
    'jdk.compiler/com.sun.tools.javac',
    'java.base/java.lang',
    'java.base/java.util',
  ].map((m) => `--add-opens=${m}=ALL-UNNAMED`),
];

/**
 * The JVM command line (after the java binary) of one test node. No JMX port is opened (no
 * `com.sun.management.jmxremote.port`), so nothing clashes with another Cassandra's 7199.
 * The full tiered JIT (C2): C1 alone started a little faster but wrote rows at about half the rate once warm.
 */
export function cassandraJvmArgs(opts: {
  libDir: string;
  layout: CassandraLayout;
  marker: string;
  heapMinMb?: number;
  heapMaxMb?: number;
}): string[] {
  const { libDir, layout } = opts;
  return [
    `-Xms${opts.heapMinMb ?? 256}m`,
    `-Xmx${opts.heapMaxMb ?? 1024}m`,
    '-Xss256k',
    '-XX:+UseG1GC',
    '-XX:+ParallelRefProcEnabled',
    '-XX:MaxTenuringThreshold=1',
    '-XX:G1HeapRegionSize=16m',
    '-XX:+ExitOnOutOfMemoryError',
    `-javaagent:${join(libDir, JAMM_JAR)}`,
    '-Djdk.attach.allowAttachSelf=true',
    ...JVM17_MODULE_FLAGS,
    '-Dio.netty.tryReflectionSetAccessible=true',
    '-Dio.netty.allocator.useCacheForAllThreads=true',
    '-Dio.netty.allocator.maxOrder=11',
    '-Dcassandra-foreground=yes',
    `-Dcassandra.config=file://${join(layout.confDir, 'cassandra.yaml')}`,
    `-Dlogback.configurationFile=file://${join(layout.confDir, 'logback.xml')}`,
    `-Dcassandra.storagedir=${layout.dataDir}`,
    `-Dcassandra.logdir=${layout.logDir}`,
    `-Dcassandra.triggers_dir=${join(layout.confDir, 'triggers')}`,
    // One node, itself the seed: no gossip settling, a fixed token (about a minute → seconds).
    '-Dcassandra.skip_wait_for_gossip_to_settle=0',
    '-Dcassandra.initial_token=0',
    `-Dliveagg.marker=${opts.marker}`,
    '-cp',
    `${libDir}/*`,
    'org.apache.cassandra.service.CassandraDaemon',
  ];
}
