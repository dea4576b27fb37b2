import type { Client } from 'cassandra-driver';
import type { Producer } from 'kafkajs';
import type { PipelineConfig } from '../../aggregator/pipeline/pipeline-schema.js';
import type { Sink } from '../../aggregator/ports/sink.js';
import { FanOutSink } from '../../aggregator/sink/fan-out-sink.js';
import { createS3Client } from '../aws/aws-clients.js';
import { CassandraResultsSink } from '../cassandra/cassandra-results-sink.js';
import type { LiveAggConfig } from '../config/config-schema.js';
import { KafkaPartialsSink } from '../kafka/kafka-partials-sink.js';
import { S3BlobStore } from '../s3/s3-blob-store.js';
import { S3ResultsSink } from '../s3/s3-results-sink.js';

export interface SinkClients {
  cassandra: () => Client;
  producer: () => Producer;
}

/** Each pipeline's sink from its `sink` section, plus the intermediate topic when it declares `nextLevel`. */
export function buildSinks(cfg: LiveAggConfig, clients: SinkClients, concurrency: number): Map<string, Sink> {
  const sinks = new Map<string, Sink>();
  for (const p of cfg.pipelines) sinks.set(p.name, sinkFor(p, cfg, clients, concurrency));
  return sinks;
}

function sinkFor(p: PipelineConfig, cfg: LiveAggConfig, clients: SinkClients, concurrency: number): Sink {
  let primary: Sink;
  switch (p.sink.type) {
    case 'cassandra':
      primary = new CassandraResultsSink(clients.cassandra(), {
        pipeline: p.name,
        keyspace: cfg.cassandra.keyspace,
        table: p.sink.table,
        concurrency,
      });
      break;
    case 's3':
      primary = new S3ResultsSink(
        new S3BlobStore(createS3Client(cfg.aws), {
          bucket: p.sink.bucket,
          multipartPartBytes: 8 * 1024 * 1024,
          multipartConcurrency: 4,
        }),
        p.sink.prefix,
        { concurrency },
      );
      break;
    case 'kafka':
      primary = new KafkaPartialsSink(clients.producer(), p.sink.topic);
      break;
  }
  if (!p.nextLevel) return primary;
  return new FanOutSink([
    primary,
    new KafkaPartialsSink(clients.producer(), p.nextLevel.topic, p.nextLevel.keyFields),
  ]);
}
