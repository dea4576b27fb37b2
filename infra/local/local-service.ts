/**
 * One real service of the local development/test stack (Kafka, Cassandra, moto, the
 * instance-metadata mock), run as a child process on 127.0.0.1 with its downloads cached
 * under the stack's cache folder.
 */
export interface LocalService {
  /** Stable short name used in status output and errors: `kafka`, `cassandra`, `aws`, `imds`. */
  readonly name: ServiceName;
  /** Checks the tools the service needs (java 17, mvn, python3, go) and throws a {@link StackError} naming the fix. */
  checkPrerequisites(): Promise<void>;
  /**
   * Optional, cheap checks before anything is installed or started, run only when the service is
   * not already running (e.g. its ports are free); throws a {@link StackError}. Lets `stack up`
   * fail in a second, before any download, instead of after the other services started.
   */
  preflight?(): Promise<void>;
  /** Downloads or builds what is missing into the cache; a no-op when already cached. */
  install(progress: ProgressReporter): Promise<void>;
  /** Starts the process (detached, pid recorded) unless one is already healthy; waits for real readiness. */
  start(progress: ProgressReporter): Promise<void>;
  /** A real round trip against the service (produce/consume, CQL query, API call); never throws. */
  health(): Promise<ServiceHealth>;
  /** Stops exactly the process this stack started (by recorded pid), waiting for it to exit. */
  stop(progress: ProgressReporter): Promise<void>;
}

export type ServiceName = 'kafka' | 'cassandra' | 'aws' | 'imds';

export interface ServiceHealth {
  ok: boolean;
  endpoint: string;
  /** Process id of the service started by the stack, when running. */
  pid?: number;
  /** Resident memory in bytes, when running (read from /proc). */
  rssBytes?: number;
  /** Why it is not ok. */
  error?: string;
}

/** Progress lines go to stderr (or a logger); never stdout, which carries `--json` documents. */
export type ProgressReporter = (service: ServiceName, message: string) => void;

/** A stack failure with the service, the cause and the fix in one line. */
export class StackError extends Error {
  readonly code: string;
  readonly service: ServiceName;
  readonly fix: string;
  constructor(service: ServiceName, code: string, cause: string, fix: string) {
    super(`${service}: ${cause} — ${fix}`);
    this.name = 'StackError';
    this.service = service;
    this.code = code;
    this.fix = fix;
  }
}
