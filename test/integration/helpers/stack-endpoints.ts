import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Kafka, logLevel } from 'kafkajs';
import { onTestFinished } from 'vitest';
import { createS3Client } from '../../../infra/aws/aws-clients.js';
import { type AwsConnection, awsConnectionSchema } from '../../../infra/config/connections-schema.js';
import { stackConfigSchema } from '../../../infra/local/stack-config.js';
import { S3BlobStore } from '../../../infra/s3/s3-blob-store.js';

/** The local stack as the integration tests see it (the default stack config; env overrides for other setups). */
export const stackConfig = stackConfigSchema.parse({});
export const kafkaBrokers = [process.env['LA_TEST_KAFKA_BROKER'] ?? `127.0.0.1:${stackConfig.kafkaPort}`];
export const cassandraContactPoint =
  process.env['LA_TEST_CASSANDRA_CONTACT_POINT'] ?? `127.0.0.1:${stackConfig.cassandraPort}`;
export const awsEndpoint = process.env['LA_TEST_AWS_ENDPOINT'] ?? `http://127.0.0.1:${stackConfig.awsPort}`;
export const imdsEndpoint = `http://127.0.0.1:${stackConfig.imdsPort}`;
/** The `aws` connection for the SDK clients of infra/aws/aws-clients.ts, aimed at moto. */
export const awsConnection: AwsConnection = awsConnectionSchema.parse({
  region: 'us-east-1',
  endpoint: awsEndpoint,
  accessKeyId: 'testing',
  secretAccessKey: 'testing',
  imdsEndpoint,
});

/** A name no other test (or earlier run) uses: `<prefix>-<12 hex>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** A kafkajs client on the local broker, quiet. */
export function kafkaClient(clientId = uniqueName('la-test')): Kafka {
  return new Kafka({ clientId, brokers: kafkaBrokers, logLevel: logLevel.NOTHING });
}

/** Creates a topic for the running test and deletes it when the test finishes. */
export async function createTopic(kafka: Kafka, partitions = 1, prefix = 'la-test'): Promise<string> {
  const topic = uniqueName(prefix);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  onTestFinished(async () => {
    const cleanup = kafka.admin();
    await cleanup.connect();
    try {
      await cleanup.deleteTopics({ topics: [topic] });
    } finally {
      await cleanup.disconnect();
    }
  });
  return topic;
}

/** Creates an S3 bucket for the running test; empties and deletes it when the test finishes. */
export async function createBucket(s3: S3Client, prefix = 'la-test'): Promise<string> {
  const bucket = uniqueName(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  onTestFinished(async () => {
    for (;;) {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      const keys = (listed.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length === 0) break;
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  });
  return bucket;
}

/** Creates an SQS queue for the running test and deletes it when the test finishes; returns its URL. */
export async function createQueue(sqs: SQSClient, prefix = 'la-test'): Promise<string> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName(prefix) }));
  const url = created.QueueUrl;
  if (!url) throw new Error('CreateQueue returned no QueueUrl');
  onTestFinished(async () => {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
  });
  return url;
}

/** A free-ish TCP port for a per-test process (metadata mock scenarios): 20000–29999, varied per worker. */
export function scenarioPort(offset = 0): number {
  return 20_000 + ((process.pid * 7 + offset * 101 + Math.floor(Math.random() * 500)) % 10_000);
}

/** Every gzipped JSON Lines object under `prefix` of a bucket on the stack: its keys and lines (parsed). */
export async function readJsonLines<T>(
  bucket: string,
  prefix: string,
): Promise<{ keys: string[]; lines: T[] }> {
  const blobs = new S3BlobStore(createS3Client(awsConnection), {
    bucket,
    multipartPartBytes: 8 * 1024 * 1024,
    multipartConcurrency: 1,
  });
  const listed = await blobs.list(`${prefix}/`);
  const lines: T[] = [];
  for (const o of listed) {
    const body = await blobs.get(o.key);
    for (const line of gunzipSync(body!).toString().trim().split('\n')) lines.push(JSON.parse(line) as T);
  }
  return { keys: listed.map((o) => o.key), lines };
}
