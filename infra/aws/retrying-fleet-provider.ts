import type { Clock } from '../../autoscaler/ports/clock.js';
import { isRetryable } from '../../autoscaler/ports/errors.js';
import type {
  CapacityRequest,
  FleetProvider,
  FleetSnapshot,
  InstanceId,
  PoolCapacityError,
} from '../../autoscaler/ports/fleet-provider.js';

export interface RetryOptions {
  /** Total attempts per call, including the first. */
  maxAttempts: number;
  /** First back-off; doubles per attempt up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** [0, 1): fraction of "full jitter" (random in [0, delay)); injected for tests. */
  random?: () => number;
  /** Called before each retry, for a log line naming the operation, the attempt and the error. */
  onRetry?: (event: { operation: string; attempt: number; delayMs: number; error: unknown }) => void;
}

const DEFAULTS: RetryOptions = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 10_000 };

/**
 * Decorates a FleetProvider with retries of retryable errors (throttling, 5xx, transport), with exponential back-off and
 * full jitter, honouring a throttle's Retry-After. Non-retryable domain errors (InsufficientSpotCapacityError,
 * InstanceNotFoundError) pass through at once: the caller routes them to another pool or treats the instance as gone.
 */
export class RetryingFleetProvider implements FleetProvider {
  private readonly opts: RetryOptions;
  /** Present when the inner provider reports asynchronous capacity errors. */
  readonly capacityErrors?: (sinceMs: number) => Promise<PoolCapacityError[]>;
  constructor(
    private readonly inner: FleetProvider,
    private readonly clock: Clock,
    options: Partial<RetryOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...options };
    const capacityErrors = inner.capacityErrors?.bind(inner);
    if (capacityErrors)
      this.capacityErrors = (sinceMs) => this.retry('capacityErrors', () => capacityErrors(sinceMs));
  }

  describe(): Promise<FleetSnapshot> {
    return this.retry('describe', () => this.inner.describe());
  }
  setTargetCapacity(request: CapacityRequest): Promise<void> {
    return this.retry('setTargetCapacity', () => this.inner.setTargetCapacity(request));
  }
  terminateInstance(instanceId: InstanceId, options: { decrementCapacity: boolean }): Promise<void> {
    return this.retry('terminateInstance', () => this.inner.terminateInstance(instanceId, options));
  }
  tagInstance(instanceId: InstanceId, tags: Readonly<Record<string, string>>): Promise<void> {
    return this.retry('tagInstance', () => this.inner.tagInstance(instanceId, tags));
  }
  untagInstance(instanceId: InstanceId, keys: readonly string[]): Promise<void> {
    return this.retry('untagInstance', () => this.inner.untagInstance(instanceId, keys));
  }

  private async retry<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const random = this.opts.random ?? Math.random;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (attempt >= this.opts.maxAttempts || !isRetryable(error)) throw error;
        const ceiling = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** (attempt - 1));
        const retryAfter = (error as { retryAfterMs?: unknown }).retryAfterMs;
        const delayMs = Math.max(
          typeof retryAfter === 'number' ? retryAfter : 0,
          Math.floor(random() * ceiling),
        );
        this.opts.onRetry?.({ operation, attempt, delayMs, error });
        await this.clock.sleep(delayMs);
      }
    }
  }
}
