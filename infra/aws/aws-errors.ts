import {
  AutoscalerPortError,
  InstanceNotFoundError,
  InsufficientSpotCapacityError,
  ThrottledError,
} from '../../autoscaler/ports/errors.js';

/** An AWS call failed for a reason that is none of the domain conditions; `retryable` says whether a retry can help. */
export class AwsApiError extends AutoscalerPortError {
  readonly operation: string;
  readonly awsCode: string;
  readonly httpStatus: number | undefined;
  constructor(
    operation: string,
    awsCode: string,
    message: string,
    retryable: boolean,
    httpStatus?: number,
    cause?: unknown,
  ) {
    super('AWS_API_ERROR', `${operation} failed (${awsCode}): ${message}`, retryable, { cause });
    this.name = 'AwsApiError';
    this.operation = operation;
    this.awsCode = awsCode;
    this.httpStatus = httpStatus;
  }
}

/** What the caller knows about the call, so the domain error can name the instance or pool. */
export interface AwsCallContext {
  instanceId?: string;
  /** `instanceType@availabilityZone` or just the instance type. */
  pool?: string;
}

const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'EC2ThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
]);

/** EC2/Auto Scaling codes that mean "this pool cannot give you spot capacity now" (route elsewhere, do not retry here). */
const CAPACITY_CODES = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientCapacity',
  'InsufficientSpotInstanceCapacity',
  'SpotMaxPriceTooLow',
  'MaxSpotInstanceCountExceeded',
  'capacity-not-available',
  'capacity-oversubscribed',
  'price-too-low',
]);

const INSTANCE_NOT_FOUND_CODES = new Set(['InvalidInstanceID.NotFound']);

const TRANSIENT_CODES = new Set([
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'Unavailable',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/** The AWS error code of an SDK v3 error (its `name`), or a transport error's `code`. */
export function awsErrorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'Unknown';
  const e = error as SdkErrorShape;
  for (const candidate of [e.Code, e.name, e.code]) {
    if (typeof candidate === 'string' && candidate !== '' && candidate !== 'Error') return candidate;
  }
  return 'Unknown';
}

function retryAfterMs(e: SdkErrorShape): number | undefined {
  const header = e.$response?.headers?.['retry-after'];
  const seconds = header === undefined ? Number.NaN : Number(header);
  return Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

/**
 * Translates an SDK error into the autoscaler's domain errors: throttling → ThrottledError (retryable), spot capacity
 * shortages → InsufficientSpotCapacityError (with the pool), unknown instances → InstanceNotFoundError, anything else
 * → AwsApiError (retryable for 5xx, transport failures and what the SDK marks retryable). Domain errors pass through.
 */
export function toDomainError(operation: string, error: unknown, context: AwsCallContext = {}): Error {
  if (error instanceof AutoscalerPortError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const code = awsErrorCode(error);
  const message = typeof e.message === 'string' ? e.message : String(error);
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLING_CODES.has(code) || e.$retryable?.throttling === true || status === 429) {
    return new ThrottledError(operation, retryAfterMs(e), { cause: error });
  }
  if (CAPACITY_CODES.has(code)) {
    return new InsufficientSpotCapacityError(
      context.pool,
      `${operation}: no spot capacity in pool ${context.pool ?? '(unknown)'} (${code}: ${message}); request the units from another instance type or AZ`,
      { cause: error },
    );
  }
  if (context.instanceId !== undefined && isInstanceNotFound(code, message)) {
    return new InstanceNotFoundError(
      context.instanceId,
      `${operation}: instance ${context.instanceId} was not found (${code}); it has already been terminated or is not in this fleet`,
      { cause: error },
    );
  }
  const retryable =
    e.$retryable !== undefined || TRANSIENT_CODES.has(code) || (status !== undefined && status >= 500);
  return new AwsApiError(operation, code, message, retryable, status, error);
}

function isInstanceNotFound(code: string, message: string): boolean {
  if (INSTANCE_NOT_FOUND_CODES.has(code)) return true;
  // Auto Scaling answers an unknown instance with a ValidationError: "Instance Id not found - No managed instance…".
  return code === 'ValidationError' && /instance id not found|no managed instance|not found/i.test(message);
}

/** Runs one AWS call and rethrows its failure as a domain error. */
export async function callAws<T>(
  operation: string,
  call: () => Promise<T>,
  context: AwsCallContext = {},
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toDomainError(operation, error, context);
  }
}
