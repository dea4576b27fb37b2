/**
 * Domain errors raised by the autoscaler's ports. Adapters translate SDK errors into these, so core code
 * decides on `code` and `retryable` and never parses a message or imports an SDK error type.
 */
export class AutoscalerPortError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AutoscalerPortError';
    this.code = code;
    this.retryable = retryable;
  }
}

/** The pool (instance type × AZ) has no spot capacity now: route the request to another pool. */
export class InsufficientSpotCapacityError extends AutoscalerPortError {
  readonly pool: string | undefined;
  constructor(pool: string | undefined, message?: string, options?: { cause?: unknown }) {
    super(
      'INSUFFICIENT_SPOT_CAPACITY',
      message ??
        `no spot capacity in pool ${pool ?? '(unknown)'}; request the units from another instance type or AZ`,
      false,
      options,
    );
    this.name = 'InsufficientSpotCapacityError';
    this.pool = pool;
  }
}

/** The instance does not exist (any more): treat it as gone, do not retry. */
export class InstanceNotFoundError extends AutoscalerPortError {
  readonly instanceId: string;
  constructor(instanceId: string, message?: string, options?: { cause?: unknown }) {
    super(
      'INSTANCE_NOT_FOUND',
      message ??
        `instance ${instanceId} was not found; it has already been terminated or never joined the fleet`,
      false,
      options,
    );
    this.name = 'InstanceNotFoundError';
    this.instanceId = instanceId;
  }
}

/** The cloud API throttled the call: retry after a back-off. */
export class ThrottledError extends AutoscalerPortError {
  readonly operation: string;
  readonly retryAfterMs: number | undefined;
  constructor(operation: string, retryAfterMs?: number, options?: { cause?: unknown }) {
    super(
      'THROTTLED',
      `${operation} was throttled; retrying after ${retryAfterMs ?? 'a'} back-off (raise the API rate limit or the loop interval if this persists)`,
      true,
      options,
    );
    this.name = 'ThrottledError';
    this.operation = operation;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A worker did not finish draining within the allowed time. */
export class DrainTimeoutError extends AutoscalerPortError {
  readonly instanceId: string;
  readonly timeoutMs: number;
  constructor(instanceId: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(
      'DRAIN_TIMEOUT',
      `worker ${instanceId} did not drain within ${timeoutMs} ms; it will be retried, then forced (raise drainTimeoutMs if its checkpoints are large)`,
      true,
      options,
    );
    this.name = 'DrainTimeoutError';
    this.instanceId = instanceId;
    this.timeoutMs = timeoutMs;
  }
}

function codeOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** True when the error says the instance is already gone. */
export function isNotFound(error: unknown): boolean {
  return error instanceof InstanceNotFoundError || codeOf(error) === 'INSTANCE_NOT_FOUND';
}

/** True when the error says the pool lacks spot capacity. */
export function isInsufficientCapacity(error: unknown): boolean {
  return error instanceof InsufficientSpotCapacityError || codeOf(error) === 'INSUFFICIENT_SPOT_CAPACITY';
}

/** True when retrying the same call later can succeed (throttling, timeouts, transient transport errors). */
export function isRetryable(error: unknown): boolean {
  if (typeof error === 'object' && error !== null && 'retryable' in error) {
    return (error as { retryable: unknown }).retryable === true;
  }
  return false;
}
