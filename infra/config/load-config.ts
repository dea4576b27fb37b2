import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { ConfigError, describeIssues } from './config-error.js';
import { configSchema, type LiveAggConfig } from './config-schema.js';

/**
 * Environment overrides, read once here and nowhere else:
 * `LIVEAGG__KAFKA__BROKERS=a:9092,b:9092` sets `kafka.brokers` (double underscore separates
 * path segments; comma-separated values become arrays where the default is an array;
 * numbers and booleans are parsed).
 */
export function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('LIVEAGG__') || raw === undefined) continue;
    const path = name
      .slice('LIVEAGG__'.length)
      .split('__')
      .map((seg) => seg.toLowerCase().replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()));
    let node = out;
    for (const seg of path.slice(0, -1)) {
      const next = node[seg];
      node[seg] = typeof next === 'object' && next !== null ? next : {};
      node = node[seg] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = parseScalar(raw);
  }
  return out;
}

function parseScalar(raw: string): unknown {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (raw.includes(',')) return raw.split(',').map((s) => s.trim());
  return raw;
}

export function deepMerge(base: unknown, over: unknown): unknown {
  if (typeof base !== 'object' || base === null || Array.isArray(base)) return over;
  if (typeof over !== 'object' || over === null || Array.isArray(over)) return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = deepMerge(out[k], v);
  return out;
}

/** Validates an already-parsed document (plus overrides); throws {@link ConfigError} naming every bad field. */
export function parseConfig(doc: unknown, source: string, env: NodeJS.ProcessEnv = {}): LiveAggConfig {
  const merged = deepMerge(doc ?? {}, envOverrides(env));
  const result = configSchema.safeParse(merged, { reportInput: true });
  if (!result.success) throw new ConfigError(source, describeIssues(result.error.issues));
  return result.data;
}

/** Reads the YAML config file (or defaults when no file is given), applies env overrides, validates. */
export async function loadConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LiveAggConfig> {
  if (file === undefined) return parseConfig({}, 'defaults', env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(file, [`is not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  return parseConfig(doc, file, env);
}
