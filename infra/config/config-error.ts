import type { z } from 'zod';

/** A configuration problem, naming the field, the value and what was expected. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly retryable = false;
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`invalid configuration in ${source}:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Turns zod issues into one line each: `autoscaler.targetUtilization: 1.4 is not in (0, 1]`.
 * Parse with `{ reportInput: true }` so the offending value can be shown.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string[] {
  return issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.') || '(root)';
    // Show the offending value when it is a scalar; a cross-field rule's input is a whole object.
    const value = 'input' in issue ? issue.input : undefined;
    const input =
      value !== undefined && (typeof value !== 'object' || value === null) ? `${formatValue(value)} ` : '';
    return `${path}: ${input}${issue.message}`;
  });
}

function formatValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
