import { Client } from 'cassandra-driver';
import type { CassandraConnection } from '../config/connections-schema.js';

/** The slice of the driver's client that {@link ensureKeyspace} needs. */
export interface CqlExecutor {
  execute(query: string): Promise<unknown>;
}

const IDENTIFIER = /^[a-z][a-z0-9_]{0,47}$/;

/** A cassandra-driver client for the configured cluster (not yet connected; the first query connects). */
export function createCassandraClient(conn: CassandraConnection): Client {
  return new Client({
    contactPoints: conn.contactPoints,
    localDataCenter: conn.localDataCenter,
    socketOptions: { connectTimeout: 5000, readTimeout: 12_000 },
  });
}

/** `CREATE KEYSPACE IF NOT EXISTS` with SimpleStrategy and the given replication factor. */
export function createKeyspaceCql(keyspace: string, replicationFactor: number): string {
  if (!IDENTIFIER.test(keyspace))
    throw new RangeError(
      `keyspace ${JSON.stringify(keyspace)} is not a valid Cassandra identifier: use lowercase letters, digits and _ (max 48, letter first)`,
    );
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1)
    throw new RangeError(`replicationFactor ${replicationFactor} is not a positive integer`);
  return `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${replicationFactor}}`;
}

/** Creates the keyspace when missing (an existing keyspace is left as it is). */
export async function ensureKeyspace(
  client: CqlExecutor,
  keyspace: string,
  replicationFactor: number,
): Promise<void> {
  await client.execute(createKeyspaceCql(keyspace, replicationFactor));
}
