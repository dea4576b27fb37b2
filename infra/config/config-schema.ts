import { z } from 'zod';
import { pipelinesSchema } from '../../aggregator/pipeline/pipeline-schema.js';
import { workerConfigSchema } from '../../aggregator/worker/worker-schema.js';
import { autoscalerPolicySchema } from '../../autoscaler/policy/policy-schema.js';
import { fleetRunSchema } from '../autoscaler-run/run-schema.js';
import { stackConfigSchema } from '../local/stack-config.js';
import {
  awsConnectionSchema,
  cassandraConnectionSchema,
  kafkaConnectionSchema,
} from './connections-schema.js';

/**
 * The one config file. Each component owns its section's schema (next to the component);
 * this file only composes them. Unknown keys are errors, so a typo names itself.
 */
export const configSchema = z
  .object({
    stack: stackConfigSchema.default(stackConfigSchema.parse({})),
    kafka: kafkaConnectionSchema.default(kafkaConnectionSchema.parse({})),
    cassandra: cassandraConnectionSchema.default(cassandraConnectionSchema.parse({})),
    aws: awsConnectionSchema.default(awsConnectionSchema.parse({})),
    worker: workerConfigSchema.optional(),
    pipelines: pipelinesSchema.default([]),
    autoscaler: autoscalerPolicySchema.default(autoscalerPolicySchema.parse({})),
    fleet: fleetRunSchema.default(fleetRunSchema.parse({})),
  })
  .strict();

export type LiveAggConfig = z.infer<typeof configSchema>;
