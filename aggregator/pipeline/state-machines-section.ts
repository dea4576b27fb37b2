import { z } from 'zod';

/**
 * The `stateMachines` list of a pipeline. The schema of one machine is owned by
 * aggregator/state-machine/state-machine-schema.ts; this module is the one place that wires it in.
 */
export const stateMachinesSchema = z.array(z.unknown());
