import { randomUUID } from 'node:crypto';
import { types } from 'cassandra-driver';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { createCassandraClient, ensureKeyspace } from '../../../infra/cassandra/cassandra-client.js';
import { cassandraConnectionSchema } from '../../../infra/config/connections-schema.js';
import { stackConfigSchema } from '../../../infra/local/stack-config.js';

const contactPoint =
  process.env['LA_TEST_CASSANDRA_CONTACT_POINT'] ?? `127.0.0.1:${stackConfigSchema.parse({}).cassandraPort}`;
const client = createCassandraClient(cassandraConnectionSchema.parse({ contactPoints: [contactPoint] }));

afterAll(async () => {
  await client.shutdown();
});

/** A fresh keyspace for one test, dropped when that test finishes. */
async function newKeyspace(): Promise<string> {
  const keyspace = `la_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  await ensureKeyspace(client, keyspace, 1);
  onTestFinished(async () => {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  });
  return keyspace;
}

describe('Cassandra on the local stack (cassandra-driver)', () => {
  it('answers system.local with a 5.0 release in datacenter1', async () => {
    const row = (await client.execute('SELECT release_version, data_center FROM system.local')).first();
    expect(String(row.get('release_version'))).toMatch(/^5\.0\./);
    expect(row.get('data_center')).toBe('datacenter1');
  });

  it('creates a keyspace and table, inserts with a prepared statement and reads the rows back', async () => {
    const ks = await newKeyspace();
    await client.execute(
      `CREATE TABLE ${ks}.windows (series text, window_start timestamp, count bigint, tags map<text, text>, PRIMARY KEY (series, window_start)) WITH CLUSTERING ORDER BY (window_start DESC)`,
    );
    const insert = `INSERT INTO ${ks}.windows (series, window_start, count, tags) VALUES (?, ?, ?, ?)`;
    const starts = [0, 60_000, 120_000].map((ms) => new Date(Date.UTC(2026, 0, 1) + ms));
    for (const [i, start] of starts.entries()) {
      await client.execute(insert, ['cpu', start, types.Long.fromNumber(10 * (i + 1)), { host: `h${i}` }], {
        prepare: true,
      });
    }
    const rs = await client.execute(
      `SELECT window_start, count, tags FROM ${ks}.windows WHERE series = ?`,
      ['cpu'],
      {
        prepare: true,
      },
    );
    expect(
      rs.rows.map((r) => ({
        start: (r.get('window_start') as Date).toISOString(),
        count: (r.get('count') as types.Long).toNumber(),
        tags: r.get('tags') as Record<string, string>,
      })),
    ).toEqual([
      { start: '2026-01-01T00:02:00.000Z', count: 30, tags: { host: 'h2' } },
      { start: '2026-01-01T00:01:00.000Z', count: 20, tags: { host: 'h1' } },
      { start: '2026-01-01T00:00:00.000Z', count: 10, tags: { host: 'h0' } },
    ]);
  });

  it('ensureKeyspace is idempotent and applies the replication factor', async () => {
    const ks = await newKeyspace();
    await ensureKeyspace(client, ks, 1);
    const row = (
      await client.execute('SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [ks], {
        prepare: true,
      })
    ).first();
    expect(row.get('replication')).toMatchObject({ replication_factor: '1' });
  });
});
