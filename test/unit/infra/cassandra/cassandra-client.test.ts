import { describe, expect, it } from 'vitest';
import {
  type CqlExecutor,
  createKeyspaceCql,
  ensureKeyspace,
} from '../../../../infra/cassandra/cassandra-client.js';

class RecordingExecutor implements CqlExecutor {
  readonly queries: string[] = [];
  async execute(query: string): Promise<unknown> {
    this.queries.push(query);
    return undefined;
  }
}

describe('ensureKeyspace', () => {
  it('creates the keyspace if missing with the replication factor', async () => {
    const exec = new RecordingExecutor();
    await ensureKeyspace(exec, 'liveagg_test', 3);
    expect(exec.queries).toEqual([
      "CREATE KEYSPACE IF NOT EXISTS liveagg_test WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
    ]);
  });

  it('rejects a name that is not a plain identifier before sending anything', async () => {
    const exec = new RecordingExecutor();
    await expect(ensureKeyspace(exec, 'x; DROP KEYSPACE system', 1)).rejects.toThrow(
      /not a valid Cassandra identifier/,
    );
    expect(exec.queries).toEqual([]);
  });

  it('rejects a replication factor below 1', () => {
    expect(() => createKeyspaceCql('ks', 0)).toThrow(/replicationFactor 0 is not a positive integer/);
  });
});
