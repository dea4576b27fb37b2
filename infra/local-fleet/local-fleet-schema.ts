import { z } from 'zod';

/**
 * The `localFleet` section: a fleet whose instances are `liveagg worker` processes on this machine. Instance types,
 * weights and pools come from the `autoscaler` section (a local type declares the CPU share one worker is allotted
 * as its `vcpu`, e.g. 0.05).
 */
export const localFleetSchema = z
  .object({
    /** First admin port; instance n listens on adminPortBase + n (n counts launches, wrapping at portSpan). */
    adminPortBase: z.number().int().min(1024).max(65000).default(19200),
    /** First per-instance metadata-mock port; a spot notice for instance n is served on imdsPortBase + n. */
    imdsPortBase: z.number().int().min(1024).max(65000).default(19400),
    /** Ports reserved for instances above each base. */
    portSpan: z.number().int().min(4).max(500).default(100),
    /** Where the generated worker configs and worker logs go (relative to the working directory). */
    stateDir: z.string().min(1).default('.liveagg/local-fleet'),
    /** Time from SIGTERM to SIGKILL when terminating an instance. */
    stopTimeoutMs: z.number().int().positive().default(120_000),
    /** Simulated boot time before a launched instance's worker process is started. */
    bootDelayMs: z.number().int().nonnegative().default(0),
    /** Terminated instances stay listed this long (so the loop sees them go). */
    keepTerminatedMs: z.number().int().nonnegative().default(60_000),
    /** Poll the workers' spot notices on their metadata-mock port (needed for injected interruptions). */
    notices: z.boolean().default(true),
    /** Command that runs `liveagg`; default: this program (node + bin/liveagg.js, or tsx + infra/cli/run.ts). */
    command: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

export type LocalFleetConfig = z.output<typeof localFleetSchema>;
