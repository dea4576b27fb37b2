import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  cassandraJvmArgs,
  cassandraLayout,
  JVM17_MODULE_FLAGS,
  renderCassandraYaml,
  renderLogback,
} from '../../../../infra/local/cassandra-config.js';

describe('renderCassandraYaml', () => {
  const doc = parse(
    renderCassandraYaml({ nativePort: 19042, storagePort: 17000, dataDir: '/s/cassandra/data' }),
  ) as Record<string, unknown>;

  it('binds one node to loopback on the configured ports, seeding itself', () => {
    expect(doc['native_transport_port']).toBe(19042);
    expect(doc['storage_port']).toBe(17000);
    expect(doc['listen_address']).toBe('127.0.0.1');
    expect(doc['rpc_address']).toBe('127.0.0.1');
    expect(JSON.stringify(doc['seed_provider'])).toContain('"seeds":"127.0.0.1:17000"');
    expect(doc['num_tokens']).toBe(1);
    expect(doc['endpoint_snitch']).toBe('SimpleSnitch');
  });

  it('keeps every file under the data folder', () => {
    expect(doc['data_file_directories']).toEqual(['/s/cassandra/data/data']);
    for (const k of ['commitlog_directory', 'saved_caches_directory', 'hints_directory', 'cdc_raw_directory'])
      expect(String(doc[k])).toMatch(/^\/s\/cassandra\/data\//);
  });

  it('uses only 5.0 key names (no *_in_ms / *_in_mb, which the loader rejects)', () => {
    expect(Object.keys(doc).filter((k) => /_in_(ms|mb|kb)$/.test(k))).toEqual([]);
    expect(doc['authenticator']).toBe('AllowAllAuthenticator');
    expect(doc['auto_snapshot']).toBe(false);
    expect(doc['file_cache_size']).toBe('32MiB');
  });
});

describe('renderLogback', () => {
  it('writes WARN to system.log and keeps the CQL readiness logger at INFO', () => {
    const xml = renderLogback();
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a logback property
    expect(xml).toContain('${cassandra.logdir}/system.log');
    expect(xml).toContain('<root level="WARN">');
    expect(xml).toContain(
      '<logger name="org.apache.cassandra.transport.PipelineConfigurator" level="INFO"/>',
    );
  });
});

describe('cassandraJvmArgs', () => {
  const layout = cassandraLayout('/s/cassandra');
  const args = cassandraJvmArgs({ libDir: '/c/cassandra-lib', layout, marker: 'liveagg-cassandra@/s' });

  it('ends with the classpath and the daemon main class', () => {
    expect(args.slice(-3)).toEqual([
      '-cp',
      '/c/cassandra-lib/*',
      'org.apache.cassandra.service.CassandraDaemon',
    ]);
  });

  it('loads the jamm agent, allows self-attach and carries every jvm17-server.options module flag', () => {
    expect(args).toContain('-javaagent:/c/cassandra-lib/jamm-0.4.0.jar');
    expect(args).toContain('-Djdk.attach.allowAttachSelf=true');
    for (const f of JVM17_MODULE_FLAGS) expect(args).toContain(f);
    expect(JVM17_MODULE_FLAGS).toContain('--add-opens=java.base/sun.nio.ch=ALL-UNNAMED');
    expect(JVM17_MODULE_FLAGS).toHaveLength(23);
  });

  it('points config, storage and logs at the layout and skips gossip settling', () => {
    expect(args).toContain('-Dcassandra.config=file:///s/cassandra/conf/cassandra.yaml');
    expect(args).toContain('-Dlogback.configurationFile=file:///s/cassandra/conf/logback.xml');
    expect(args).toContain('-Dcassandra.storagedir=/s/cassandra/data');
    expect(args).toContain('-Dcassandra.logdir=/s/cassandra/logs');
    expect(args).toContain('-Dcassandra.triggers_dir=/s/cassandra/conf/triggers');
    expect(args).toContain('-Dcassandra.skip_wait_for_gossip_to_settle=0');
    expect(args).toContain('-Dliveagg.marker=liveagg-cassandra@/s');
  });

  it('sizes the heap from the options and opens no remote JMX port', () => {
    const small = cassandraJvmArgs({ libDir: '/c', layout, marker: 'm', heapMinMb: 128, heapMaxMb: 512 });
    expect(small.slice(0, 2)).toEqual(['-Xms128m', '-Xmx512m']);
    expect(args.some((a) => a.includes('jmxremote.port'))).toBe(false);
  });
});
