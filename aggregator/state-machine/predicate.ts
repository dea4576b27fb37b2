import type { FieldPredicate, Predicate, PredicateScalar } from './state-machine-schema.js';

/** A predicate compiled once per definition; evaluated per record against the decoded object. */
export type CompiledPredicate = (raw: Record<string, unknown>) => boolean;

const ALWAYS: CompiledPredicate = () => true;
const NEVER: CompiledPredicate = () => false;

/** Compiles a validated predicate tree into one function (built at start-up, not per record). */
export function compilePredicate(p: Predicate): CompiledPredicate {
  if ('all' in p) {
    const parts = p.all.map(compilePredicate);
    if (parts.length === 0) return ALWAYS;
    if (parts.length === 1) return parts[0] as CompiledPredicate;
    return (raw) => {
      for (let i = 0; i < parts.length; i++) if (!(parts[i] as CompiledPredicate)(raw)) return false;
      return true;
    };
  }
  if ('any' in p) {
    const parts = p.any.map(compilePredicate);
    if (parts.length === 0) return NEVER;
    return (raw) => {
      for (let i = 0; i < parts.length; i++) if ((parts[i] as CompiledPredicate)(raw)) return true;
      return false;
    };
  }
  return compileField(p);
}

function compileField(p: FieldPredicate): CompiledPredicate {
  const field = p.field;
  switch (p.op) {
    case 'exists':
      return (raw) => raw[field] !== undefined && raw[field] !== null;
    case 'missing':
      return (raw) => raw[field] === undefined || raw[field] === null;
    case 'eq': {
      const value = p.value as PredicateScalar;
      // A missing field equals null (JSON has no undefined).
      return (raw) => (raw[field] ?? null) === value;
    }
    case 'ne': {
      const value = p.value as PredicateScalar;
      return (raw) => (raw[field] ?? null) !== value;
    }
    case 'in': {
      const set = new Set<unknown>(p.value as PredicateScalar[]);
      return (raw) => set.has(raw[field] ?? null);
    }
    case 'gt':
      return ordered(field, p.value as PredicateScalar, (c) => c > 0);
    case 'gte':
      return ordered(field, p.value as PredicateScalar, (c) => c >= 0);
    case 'lt':
      return ordered(field, p.value as PredicateScalar, (c) => c < 0);
    case 'lte':
      return ordered(field, p.value as PredicateScalar, (c) => c <= 0);
  }
}

/** Numbers compare with numbers, strings with strings; any other pairing is false. */
function ordered(field: string, value: PredicateScalar, accept: (cmp: number) => boolean): CompiledPredicate {
  if (typeof value === 'number') {
    return (raw) => {
      const v = raw[field];
      return typeof v === 'number' && accept(v < value ? -1 : v > value ? 1 : 0);
    };
  }
  if (typeof value === 'string') {
    return (raw) => {
      const v = raw[field];
      return typeof v === 'string' && accept(v < value ? -1 : v > value ? 1 : 0);
    };
  }
  return NEVER;
}
