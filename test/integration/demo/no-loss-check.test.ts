import { Client } from 'cassandra-driver';
import { afterAll, describe, expect, it } from 'vitest';
import { resultTablesCql } from '../../../infra/cassandra/results-schema.js';
import { readCounts } from '../../../infra/demo/no-loss-check.js';
import { cassandraContactPoint, uniqueName } from '../helpers/stack-endpoints.js';

const client = new Client({ contactPoints: [cassandraContactPoint], localDataCenter: 'datacenter1' });
const keyspace = uniqueName('la_test_noloss').replaceAll('-', '_');
afterAll(async () => {
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
  await client.shutdown();
});

describe('demo no-loss check against Cassandra', () => {
  it("reads this run's counts from every page of a table that also holds earlier runs' rows", async () => {
    await client.execute(
      `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    for (const cql of resultTablesCql(keyspace, 'rides')) await client.execute(cql);
    const insert = `INSERT INTO ${keyspace}.rides (pipeline, series_key, window_size_ms, window_start, key_values, metrics) VALUES (?, ?, ?, ?, ?, ?)`;
    const rows: { series: string; start: number; count: number }[] = [];
    // 6,000 rows of earlier runs and 300 of this one: more than one 5,000-row page, this run's rows among them.
    for (let i = 0; i < 6000; i++)
      rows.push({ series: `rold${i % 7}-s${i}`, start: 10_000 * (i % 20), count: 1 });
    for (let i = 0; i < 300; i++)
      rows.push({ series: `rnow-s${i % 64}`, start: 10_000 * Math.floor(i / 64), count: i + 1 });
    for (let i = 0; i < rows.length; i += 50) {
      await client.batch(
        rows.slice(i, i + 50).map((r) => ({
          query: insert,
          params: [
            'rides',
            r.series,
            10_000,
            new Date(r.start),
            { station: r.series },
            { 'minutes.count': r.count },
          ],
        })),
        { prepare: true, logged: false },
      );
    }
    const counts = await readCounts(client, keyspace, 'rides', 'rnow', 'minutes.count');
    expect(counts.size).toBe(300);
    let total = 0;
    for (const n of counts.values()) total += n;
    expect(total).toBe((300 * 301) / 2);
    expect(counts.get('rnow-s5|0')).toBe(6);
  }, 120_000);
});
