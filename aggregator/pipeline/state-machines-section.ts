import { z } from 'zod';
import { stateMachineSchema } from '../state-machine/state-machine-schema.js';

/**
 * The `stateMachines` list of a pipeline (the schema of one machine is owned by
 * aggregator/state-machine/state-machine-schema.ts); machine names are unique.
 */
export const stateMachinesSchema = z.array(stateMachineSchema).superRefine((ms, ctx) => {
  const names = ms.map((m) => m.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) {
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${n}" names two state machines` });
    }
  });
});
