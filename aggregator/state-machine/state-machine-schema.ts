import { z } from 'zod';

/** Comparison operators of a field predicate. */
export const PREDICATE_OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'exists', 'missing', 'in'] as const;
export type PredicateOp = (typeof PREDICATE_OPS)[number];

/** A scalar a predicate compares a field with. */
export type PredicateScalar = string | number | boolean | null;

/**
 * A test on one record field (top-level field of the decoded JSON object):
 * - `eq`/`ne`: strict equality with `value` (a missing field is `ne` anything but null);
 * - `gt`/`gte`/`lt`/`lte`: numbers with numbers, strings with strings (lexical); other types → false;
 * - `exists`/`missing`: present and not null / absent or null (no `value`);
 * - `in`: the field equals one of `value` (an array).
 */
export interface FieldPredicate {
  field: string;
  op: PredicateOp;
  value?: PredicateScalar | PredicateScalar[] | undefined;
}
/** Combinators: `{ all: [] }` is always true, `{ any: [] }` always false. */
export type Predicate = FieldPredicate | { all: Predicate[] } | { any: Predicate[] };

const scalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const fieldPredicateSchema = z
  .object({
    field: z.string().min(1),
    op: z.enum(PREDICATE_OPS),
    value: z.union([scalarSchema, z.array(scalarSchema)]).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const needsValue = p.op !== 'exists' && p.op !== 'missing';
    if (!needsValue && p.value !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `op "${p.op}" takes no value; remove it` });
    } else if (needsValue && p.value === undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `op "${p.op}" needs a value` });
    } else if (p.op === 'in' && !Array.isArray(p.value)) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        input: p.value,
        message: 'op "in" needs an array of values',
      });
    } else if (p.op !== 'in' && Array.isArray(p.value)) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `op "${p.op}" needs a single value; use op "in" for a list`,
      });
    }
  });

export const predicateSchema: z.ZodType<Predicate> = z.lazy(() =>
  z.union([
    z.object({ all: z.array(predicateSchema) }).strict(),
    z.object({ any: z.array(predicateSchema) }).strict(),
    fieldPredicateSchema,
  ]),
);

const transitionSchema = z
  .object({
    /** Source state, or `*` for any state. */
    from: z.string().min(1),
    to: z.string().min(1),
    /** Default: every record matches. */
    when: predicateSchema.default({ all: [] }),
  })
  .strict();

const timeoutSchema = z
  .object({
    state: z.string().min(1),
    /** Event-time silence (ms since the key's last record or state change by timeout) after which the key moves to `to`. */
    afterMs: z.number().int().positive(),
    to: z.string().min(1),
  })
  .strict();

const emitFilterSchema = z
  .object({ from: z.string().min(1).default('*'), to: z.string().min(1).default('*') })
  .strict();

/**
 * A per-key state machine. On each record of a key, the first transition (in declared order)
 * whose `from` is the key's state (or `*`) and whose `when` matches moves the key to `to`; a
 * transition to the current state is a no-op. Timeouts move a key after `afterMs` of event-time silence.
 */
export const stateMachineSchema = z
  .object({
    name: z.string().min(1),
    states: z.array(z.string().min(1)).min(1).max(65_535),
    initial: z.string().min(1),
    transitions: z.array(transitionSchema).default([]),
    timeouts: z.array(timeoutSchema).default([]),
    /** Which transitions produce an output record: `all`, `none`, or a list of `{ from, to }` filters (`*` wildcards). */
    emit: z.union([z.literal('all'), z.literal('none'), z.array(emitFilterSchema)]).default('all'),
  })
  .strict()
  .superRefine((def, ctx) => {
    const declared = new Set(def.states);
    const list = def.states.map((s) => JSON.stringify(s)).join(', ');
    const check = (state: string, path: (string | number)[], allowWildcard: boolean): void => {
      if (allowWildcard && state === '*') return;
      if (!declared.has(state)) {
        ctx.addIssue({
          code: 'custom',
          path,
          input: state,
          message: `is not a declared state (states: ${list})`,
        });
      }
    };
    const seen = new Set<string>();
    def.states.forEach((s, i) => {
      if (seen.has(s))
        ctx.addIssue({ code: 'custom', path: ['states', i], input: s, message: 'is declared twice' });
      seen.add(s);
    });
    check(def.initial, ['initial'], false);
    def.transitions.forEach((t, i) => {
      check(t.from, ['transitions', i, 'from'], true);
      check(t.to, ['transitions', i, 'to'], false);
    });
    const timed = new Set<string>();
    def.timeouts.forEach((t, i) => {
      check(t.state, ['timeouts', i, 'state'], false);
      check(t.to, ['timeouts', i, 'to'], false);
      if (timed.has(t.state)) {
        ctx.addIssue({
          code: 'custom',
          path: ['timeouts', i, 'state'],
          input: t.state,
          message: 'has a second timeout; keep one per state',
        });
      }
      if (t.to === t.state) {
        ctx.addIssue({
          code: 'custom',
          path: ['timeouts', i, 'to'],
          input: t.to,
          message: "is the timeout's own state; a timeout must move to another state",
        });
      }
      timed.add(t.state);
    });
    if (Array.isArray(def.emit)) {
      def.emit.forEach((e, i) => {
        check(e.from, ['emit', i, 'from'], true);
        check(e.to, ['emit', i, 'to'], true);
      });
    }
  });

/** A validated state machine definition (defaults applied). */
export type StateMachineDefinition = z.output<typeof stateMachineSchema>;
/** A state machine as written in the config file. */
export type StateMachineInput = z.input<typeof stateMachineSchema>;
