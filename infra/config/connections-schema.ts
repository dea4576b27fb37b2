import { z } from 'zod';

/** Where the outside systems are. Defaults point at the local stack (`liveagg stack up`). */
export const kafkaConnectionSchema = z
  .object({
    brokers: z
      .array(z.string().regex(/^[^:\s]+:\d+$/, 'is not host:port'))
      .min(1)
      .default(['127.0.0.1:19092']),
    clientId: z.string().min(1).default('liveagg'),
    ssl: z.boolean().default(false),
  })
  .strict();

export const cassandraConnectionSchema = z
  .object({
    contactPoints: z.array(z.string().min(1)).min(1).default(['127.0.0.1:19042']),
    localDataCenter: z.string().min(1).default('datacenter1'),
    keyspace: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,47}$/, 'is not a valid keyspace name')
      .default('liveagg'),
    replicationFactor: z.number().int().min(1).default(1),
  })
  .strict();

export const awsConnectionSchema = z
  .object({
    region: z.string().min(1).default('us-east-1'),
    /** Endpoint override for every AWS client (moto locally); unset for real AWS. */
    endpoint: z.string().url().optional(),
    /** Static credentials for the local stack only; real deployments use the default provider chain. */
    accessKeyId: z.string().optional(),
    secretAccessKey: z.string().optional(),
    /** Instance metadata endpoint override (the metadata mock locally). */
    imdsEndpoint: z.string().url().optional(),
  })
  .strict();

export type KafkaConnection = z.infer<typeof kafkaConnectionSchema>;
export type CassandraConnection = z.infer<typeof cassandraConnectionSchema>;
export type AwsConnection = z.infer<typeof awsConnectionSchema>;
