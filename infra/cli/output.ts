/** With `--json`, stdout carries only the JSON document; everything else goes to stderr. */
export function printJson(doc: unknown): void {
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

/** A human-readable line on stdout (reports without `--json`). */
export function printLine(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Progress and notes for a person, on stderr so they never mix with `--json` output. */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Renders rows as an aligned text table. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
