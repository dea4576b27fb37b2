/** The slice of a structured logger the core uses (pino's Logger satisfies it). */
export interface WorkerLog {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}
