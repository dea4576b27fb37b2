import { z } from 'zod';
import { localFleetSchema } from '../local-fleet/local-fleet-schema.js';

/**
 * The `fleet` section: which adapters `liveagg autoscaler` wires into the loop. `local` runs workers as processes on
 * this machine (demo, end-to-end tests); `asg`, `spot-fleet` and `ec2-fleet` resize real AWS capacity.
 */
export const fleetRunSchema = z
  .object({
    provider: z.enum(['local', 'asg', 'spot-fleet', 'ec2-fleet']).default('local'),
    /** Auto Scaling group name, Spot Fleet request id (`sfr-…`) or EC2 Fleet id (`fleet-…`); required on AWS. */
    name: z.string().min(1).optional(),
    /** Termination lifecycle hook of the Auto Scaling group, completed after a drained worker is terminated. */
    terminationHookName: z.string().min(1).optional(),
    /** `prometheus` scrapes the workers' /metrics; `cloudwatch` reads what they publish. */
    metrics: z.enum(['prometheus', 'cloudwatch']).default('prometheus'),
    /** SQS queue of the EventBridge interruption rule (AWS); the local fleet has its own source. */
    interruptionQueueUrl: z.string().url().optional(),
    /** Worker admin port on AWS instances (admin URL = http://<private IP>:<port>). */
    workerAdminPort: z.number().int().min(1).max(65535).default(19100),
    /** Bearer token for the workers' POST /drain and /checkpoint (prefer LIVEAGG__FLEET__ADMIN_TOKEN). */
    adminToken: z.string().min(16).optional(),
    /** Records/s one vCPU of each type sustains at 100 % (used until the loop has learned its own figures). */
    recordsPerSecondPerVcpu: z.record(z.string(), z.number().positive()).default({}),
    /** Decision log, JSON lines (appended). */
    decisionLogFile: z.string().min(1).default('.liveagg/decisions.jsonl'),
    /** Input-rate history (CSV `timestamp,value`, records/s) for `autoscaler forecast` and the loop's forecast. */
    forecastHistoryCsv: z.string().min(1).optional(),
    /**
     * Publish the loop's own metrics (`la_autoscaler_*`, `la_drain_failures_total`, which the deployment's alarm reads)
     * to CloudWatch every `intervalMs`. `enabled` defaults to on for AWS fleets and off for the local one; never in dry-run.
     */
    cloudwatch: z
      .object({
        enabled: z.boolean().optional(),
        intervalMs: z.number().int().min(1000).default(60_000),
      })
      .strict()
      .default({ intervalMs: 60_000 }),
    /** Capacity the local fleet starts with, units. */
    initialUnits: z.number().int().nonnegative().default(1),
    local: localFleetSchema.default(localFleetSchema.parse({})),
  })
  .strict()
  .refine((f) => f.provider === 'local' || f.name !== undefined, {
    message:
      'is required when provider is asg, spot-fleet or ec2-fleet (the group name, sfr-… or fleet-… id)',
    path: ['name'],
  });

export type FleetRunConfig = z.output<typeof fleetRunSchema>;
