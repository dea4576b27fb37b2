/** One sample of the Prometheus text exposition format (0.0.4). */
export interface PromSample {
  /** Sample name as written (histograms' `_bucket`/`_sum`/`_count` suffixes included). */
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

/** A parse failure naming the line and what was expected there. */
export class PromParseError extends Error {
  readonly code = 'PROM_PARSE';
  readonly retryable = false;
  constructor(lineNumber: number, line: string, expected: string) {
    super(`/metrics line ${lineNumber}: ${expected} in ${JSON.stringify(line.slice(0, 120))}`);
    this.name = 'PromParseError';
  }
}

export interface ParsedExposition {
  samples: PromSample[];
  /** Metric family name → declared type (`counter`, `gauge`, `histogram`, `summary`, `untyped`). */
  types: Map<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/**
 * Parses the Prometheus text format: `# TYPE` lines, other comments skipped, samples
 * `name{label="value",…} value [timestamp]` with `\\`, `\"` and `\n` escapes in label values and `NaN`/`+Inf`/`-Inf`.
 */
export function parsePromText(text: string): ParsedExposition {
  const samples: PromSample[] = [];
  const types = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (m?.[1] && m[2]) types.set(m[1], m[2]);
      continue;
    }
    samples.push(parseSampleLine(line, i + 1));
  }
  return { samples, types };
}

function parseSampleLine(line: string, lineNumber: number): PromSample {
  const nameMatch = NAME.exec(line);
  if (!nameMatch) throw new PromParseError(lineNumber, line, 'expected a metric name');
  const name = nameMatch[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos++;
    for (;;) {
      pos = skipSpaces(line, pos);
      if (line[pos] === '}') {
        pos++;
        break;
      }
      const labelMatch = LABEL_NAME.exec(line.slice(pos));
      if (!labelMatch) throw new PromParseError(lineNumber, line, 'expected a label name');
      const labelName = labelMatch[0];
      pos = skipSpaces(line, pos + labelName.length);
      if (line[pos] !== '=')
        throw new PromParseError(lineNumber, line, `expected = after label ${labelName}`);
      pos = skipSpaces(line, pos + 1);
      if (line[pos] !== '"')
        throw new PromParseError(lineNumber, line, `expected a quoted value for label ${labelName}`);
      pos++;
      let value = '';
      for (;;) {
        const ch = line[pos];
        if (ch === undefined)
          throw new PromParseError(lineNumber, line, `unterminated value of label ${labelName}`);
        pos++;
        if (ch === '"') break;
        if (ch === '\\') {
          const next = line[pos];
          pos++;
          value += next === 'n' ? '\n' : next === '\\' ? '\\' : next === '"' ? '"' : `\\${next ?? ''}`;
        } else {
          value += ch;
        }
      }
      labels[labelName] = value;
      pos = skipSpaces(line, pos);
      if (line[pos] === ',') pos++;
      else if (line[pos] !== '}') throw new PromParseError(lineNumber, line, 'expected , or } after a label');
    }
  }
  const rest = line.slice(pos).trim().split(/\s+/);
  const value = parseValue(rest[0]);
  if (value === undefined) throw new PromParseError(lineNumber, line, 'expected a sample value');
  const sample: PromSample = { name, labels, value };
  if (rest[1] !== undefined) {
    const ts = Number(rest[1]);
    if (!Number.isFinite(ts)) throw new PromParseError(lineNumber, line, 'expected a millisecond timestamp');
    sample.timestampMs = ts;
  }
  return sample;
}

function skipSpaces(line: string, pos: number): number {
  let p = pos;
  while (line[p] === ' ' || line[p] === '\t') p++;
  return p;
}

function parseValue(token: string | undefined): number | undefined {
  if (token === undefined || token === '') return undefined;
  if (token === 'NaN') return Number.NaN;
  if (token === '+Inf' || token === 'Inf') return Number.POSITIVE_INFINITY;
  if (token === '-Inf') return Number.NEGATIVE_INFINITY;
  const n = Number(token);
  return Number.isNaN(n) ? undefined : n;
}
