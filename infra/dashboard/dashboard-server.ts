import type { AutoscalerRuntime } from '../autoscaler-run/build-autoscaler.js';

export interface DashboardOptions {
  port: number;
  runtime: AutoscalerRuntime;
  /** The input rate being offered now, records/s (the demo's load generator), if known. */
  inputRate?: () => number;
}

/** Serves the live dashboard (placeholder until the view lands). */
export async function startDashboard(
  _opts: DashboardOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  return { url: '', close: async () => {} };
}
