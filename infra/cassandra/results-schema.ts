/**
 * CQL for a pipeline's result tables. Rows are keyed by (pipeline, series, window size) and
 * clustered by window start, so a replay's rewrite of a window is an idempotent upsert and a
 * series' recent windows are one partition read. Aggregates are a map `field.kind → value`
 * (`latency.p99`, `bytes.sum`, `device.distinct`); it and the key values are frozen: one cell per row, and an
 * INSERT replaces it whole without writing a tombstone first (a non-frozen collection costs a range tombstone per
 * INSERT). A table created by an earlier version with a non-frozen `key_values` keeps working: the driver writes
 * the same map to either.
 */
export function resultTablesCql(keyspace: string, table: string): string[] {
  assertIdentifier(keyspace, 'keyspace');
  assertIdentifier(table, 'table');
  return [
    `CREATE TABLE IF NOT EXISTS ${keyspace}.${table} (
      pipeline text,
      series_key text,
      window_size_ms bigint,
      window_start timestamp,
      key_values frozen<map<text, text>>,
      metrics frozen<map<text, double>>,
      PRIMARY KEY ((pipeline, series_key, window_size_ms), window_start)
    ) WITH CLUSTERING ORDER BY (window_start DESC)`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.${table}_transitions (
      pipeline text,
      machine text,
      series_key text,
      at timestamp,
      from_state text,
      to_state text,
      cause text,
      key_values frozen<map<text, text>>,
      PRIMARY KEY ((pipeline, machine, series_key), at, from_state, to_state)
    ) WITH CLUSTERING ORDER BY (at DESC, from_state ASC, to_state ASC)`,
  ];
}

export function insertResultCql(keyspace: string, table: string): string {
  return `INSERT INTO ${keyspace}.${table} (pipeline, series_key, window_size_ms, window_start, key_values, metrics) VALUES (?, ?, ?, ?, ?, ?)`;
}

export function insertTransitionCql(keyspace: string, table: string): string {
  return `INSERT INTO ${keyspace}.${table}_transitions (pipeline, machine, series_key, at, from_state, to_state, cause, key_values) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
}

function assertIdentifier(name: string, what: string): void {
  if (!/^[a-z][a-z0-9_]{0,47}$/.test(name)) {
    throw new Error(
      `${what} ${JSON.stringify(name)} is not a valid Cassandra identifier (lowercase letters, digits, _; max 48)`,
    );
  }
}
