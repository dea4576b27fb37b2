import { describe, expect, it } from 'vitest';
import { compilePredicate } from '../../../../aggregator/state-machine/predicate.js';
import type { Predicate } from '../../../../aggregator/state-machine/state-machine-schema.js';

const test = (p: Predicate, raw: Record<string, unknown>) => compilePredicate(p)(raw);

describe('predicates', () => {
  it('eq / ne (a missing field equals null)', () => {
    expect(test({ field: 's', op: 'eq', value: 'up' }, { s: 'up' })).toBe(true);
    expect(test({ field: 's', op: 'eq', value: 'up' }, { s: 'down' })).toBe(false);
    expect(test({ field: 's', op: 'eq', value: 1 }, { s: '1' })).toBe(false);
    expect(test({ field: 's', op: 'ne', value: 'up' }, {})).toBe(true);
    expect(test({ field: 's', op: 'eq', value: null }, {})).toBe(true);
  });

  it('ordered comparisons only between numbers or between strings', () => {
    expect(test({ field: 'v', op: 'gt', value: 10 }, { v: 11 })).toBe(true);
    expect(test({ field: 'v', op: 'gt', value: 10 }, { v: 10 })).toBe(false);
    expect(test({ field: 'v', op: 'gte', value: 10 }, { v: 10 })).toBe(true);
    expect(test({ field: 'v', op: 'lt', value: 10 }, { v: 9 })).toBe(true);
    expect(test({ field: 'v', op: 'lte', value: 10 }, { v: 11 })).toBe(false);
    expect(test({ field: 'v', op: 'gt', value: 10 }, { v: '11' })).toBe(false);
    expect(test({ field: 'v', op: 'lt', value: 'b' }, { v: 'a' })).toBe(true);
  });

  it('exists / missing / in', () => {
    expect(test({ field: 'v', op: 'exists' }, { v: 0 })).toBe(true);
    expect(test({ field: 'v', op: 'exists' }, { v: null })).toBe(false);
    expect(test({ field: 'v', op: 'missing' }, {})).toBe(true);
    expect(test({ field: 'v', op: 'in', value: ['a', 2] }, { v: 2 })).toBe(true);
    expect(test({ field: 'v', op: 'in', value: ['a', 2] }, { v: '2' })).toBe(false);
  });

  it('all / any, with empty all true and empty any false', () => {
    const p: Predicate = {
      all: [
        { field: 'a', op: 'exists' },
        {
          any: [
            { field: 'b', op: 'eq', value: 1 },
            { field: 'c', op: 'eq', value: 1 },
          ],
        },
      ],
    };
    expect(test(p, { a: 1, c: 1 })).toBe(true);
    expect(test(p, { a: 1, b: 2 })).toBe(false);
    expect(test(p, { b: 1 })).toBe(false);
    expect(test({ all: [] }, {})).toBe(true);
    expect(test({ any: [] }, {})).toBe(false);
  });
});
