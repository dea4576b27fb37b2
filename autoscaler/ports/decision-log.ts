/** One JSON record of the decision log (decision, action outcome, or event); `kind` says which. */
export interface DecisionLogRecord {
  kind: string;
  atMs: number;
  [key: string]: unknown;
}

/** Append-only decision log (JSON lines file, stdout, in-memory for tests and the simulator). */
export interface DecisionLog {
  /** Appends one record; it must be JSON-serialisable. Resolves once written (or buffered for writing). */
  append(record: DecisionLogRecord): Promise<void>;
}
