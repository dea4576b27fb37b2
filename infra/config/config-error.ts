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
    const input = 'input' in issue && issue.input !== undefined ? `${formatValue(issue.input)} ` : '';
    return `${path}: ${input}${issue.message}`;
  });
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  }
  return String(value);
}
