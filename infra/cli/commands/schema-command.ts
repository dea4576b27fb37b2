import type { Command } from 'commander';
import { createCassandraClient, createKeyspaceCql } from '../../cassandra/cassandra-client.js';
import { resultTablesCql } from '../../cassandra/results-schema.js';
import { loadConfig } from '../../config/load-config.js';
import { printJson, progress } from '../output.js';

export function registerSchemaCommand(program: Command): void {
  program
    .command('schema')
    .description('Manage the Cassandra schema of the result tables.')
    .command('apply')
    .description(
      'create the keyspace and the result/transition tables of every pipeline with a Cassandra sink (idempotent)',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML)')
    .option('--json', 'print only the JSON document on stdout')
    .action(async (opts: { config: string; json?: boolean }) => {
      const cfg = await loadConfig(opts.config);
      const { keyspace, replicationFactor } = cfg.cassandra;
      const statements = [createKeyspaceCql(keyspace, replicationFactor)];
      const tables: string[] = [];
      for (const p of cfg.pipelines) {
        if (p.sink.type !== 'cassandra') continue;
        statements.push(...resultTablesCql(keyspace, p.sink.table));
        tables.push(p.sink.table, `${p.sink.table}_transitions`);
      }
      const client = createCassandraClient(cfg.cassandra);
      try {
        for (const cql of statements) {
          progress(`cql: ${cql.split('\n')[0]}`);
          await client.execute(cql);
        }
      } finally {
        await client.shutdown();
      }
      const doc = { keyspace, tables: [...new Set(tables)] };
      if (opts.json) printJson(doc);
      else
        process.stdout.write(
          `schema applied: keyspace ${keyspace}, tables ${doc.tables.join(', ') || '(none)'}\n`,
        );
    });
}
