import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../../autoscaler/ports/clock.js';
import { InsufficientSpotCapacityError, ThrottledError } from '../../../../autoscaler/ports/errors.js';
import type {
  CapacityRequest,
  FleetProvider,
  FleetSnapshot,
  PoolCapacityError,
} from '../../../../autoscaler/ports/fleet-provider.js';
import { RetryingFleetProvider } from '../../../../infra/aws/retrying-fleet-provider.js';

class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  nowMs = 0;
  now(): number {
    return this.nowMs;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.nowMs += ms;
  }
}

/** Fails the next calls with the queued errors, then succeeds; records calls. */
class FlakyFleet implements FleetProvider {
  readonly calls: string[] = [];
  constructor(readonly errors: unknown[]) {}
  private async step(name: string): Promise<void> {
    this.calls.push(name);
    const next = this.errors.shift();
    if (next) throw next;
  }
  async describe(): Promise<FleetSnapshot> {
    await this.step('describe');
    return { observedAtMs: 0, targetUnits: 3, instances: [] };
  }
  async setTargetCapacity(_request: CapacityRequest): Promise<void> {
    await this.step('setTargetCapacity');
  }
  async terminateInstance(): Promise<void> {
    await this.step('terminateInstance');
  }
  async tagInstance(): Promise<void> {
    await this.step('tagInstance');
  }
  async untagInstance(): Promise<void> {
    await this.step('untagInstance');
  }
}

describe('RetryingFleetProvider', () => {
  it('retries throttling with exponential back-off and full jitter, honouring Retry-After', async () => {
    const clock = new FakeClock();
    const inner = new FlakyFleet([
      new ThrottledError('DescribeInstances'),
      new ThrottledError('DescribeInstances', 5000),
    ]);
    const retries: number[] = [];
    const fleet = new RetryingFleetProvider(inner, clock, {
      baseDelayMs: 1000,
      maxDelayMs: 8000,
      random: () => 0.5,
      onRetry: (e) => retries.push(e.attempt),
    });
    expect((await fleet.describe()).targetUnits).toBe(3);
    expect(inner.calls).toEqual(['describe', 'describe', 'describe']);
    // attempt 1: 0.5 × 1000; attempt 2: max(Retry-After 5000, 0.5 × 2000).
    expect(clock.sleeps).toEqual([500, 5000]);
    expect(retries).toEqual([1, 2]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const clock = new FakeClock();
    const last = new ThrottledError('SetDesiredCapacity');
    const inner = new FlakyFleet([
      new ThrottledError('SetDesiredCapacity'),
      new ThrottledError('SetDesiredCapacity'),
      last,
    ]);
    const fleet = new RetryingFleetProvider(inner, clock, { maxAttempts: 3, random: () => 0 });
    await expect(fleet.setTargetCapacity({ totalUnits: 9 })).rejects.toBe(last);
    expect(inner.calls).toHaveLength(3);
  });

  it('does not retry non-retryable domain errors', async () => {
    const clock = new FakeClock();
    const capacity = new InsufficientSpotCapacityError('c6i.xlarge@us-east-1a');
    const inner = new FlakyFleet([capacity]);
    const fleet = new RetryingFleetProvider(inner, clock);
    await expect(fleet.setTargetCapacity({ totalUnits: 9 })).rejects.toBe(capacity);
    expect(inner.calls).toEqual(['setTargetCapacity']);
    expect(clock.sleeps).toEqual([]);
  });

  it('passes capacity reports through with retries when the inner fleet has them, and lacks them otherwise', async () => {
    const clock = new FakeClock();
    const report: PoolCapacityError = {
      instanceType: 'm6i.xlarge',
      availabilityZone: 'us-east-1a',
      atMs: 5,
      code: 'InsufficientInstanceCapacity',
      message: 'Spot Fleet history error/launchSpecUnusable',
    };
    const since: number[] = [];
    class ReportingFleet extends FlakyFleet {
      async capacityErrors(sinceMs: number): Promise<PoolCapacityError[]> {
        since.push(sinceMs);
        await this.describe();
        return [report];
      }
    }
    const fleet = new RetryingFleetProvider(
      new ReportingFleet([new ThrottledError('DescribeSpotFleetRequestHistory')]),
      clock,
      { random: () => 0 },
    );
    expect(await fleet.capacityErrors?.(42)).toEqual([report]);
    expect(since).toEqual([42, 42]);
    expect(new RetryingFleetProvider(new FlakyFleet([]), clock).capacityErrors).toBeUndefined();
  });
});
