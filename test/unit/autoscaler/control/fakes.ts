import type { Clock } from '../../../../autoscaler/ports/clock.js';
import type { DecisionLog, DecisionLogRecord } from '../../../../autoscaler/ports/decision-log.js';
import { InstanceNotFoundError } from '../../../../autoscaler/ports/errors.js';
import {
  type CapacityRequest,
  type FleetInstance,
  type FleetProvider,
  type FleetSnapshot,
  type InstanceId,
  type PoolCapacityError,
  parsePoolId,
} from '../../../../autoscaler/ports/fleet-provider.js';
import type {
  InterruptionNotice,
  InterruptionSource,
} from '../../../../autoscaler/ports/interruption-source.js';
import type { MetricsSnapshot, MetricsSource } from '../../../../autoscaler/ports/metrics-source.js';
import type {
  DrainResult,
  WorkerControl,
  WorkerStatus,
} from '../../../../autoscaler/ports/worker-control.js';

/** Lets pending promise callbacks run. */
export const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

export class FakeClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  async sleep(ms: number): Promise<void> {
    this.t += ms;
  }
}

type FleetMethod =
  | 'describe'
  | 'setTargetCapacity'
  | 'terminateInstance'
  | 'tagInstance'
  | 'untagInstance'
  | 'capacityErrors';

/**
 * An in-memory fleet: raising the target launches ready instances in the requested pools. A pool in `shortPools`
 * accepts the request but launches nothing and records a capacity report instead (as Spot Fleet / EC2 Fleet / Auto
 * Scaling do, asynchronously); `steersPerPool` makes describe report the last per-pool targets.
 */
export class FakeFleet implements FleetProvider {
  calls: { method: FleetMethod; args: unknown[] }[] = [];
  readonly shortPools = new Set<string>();
  reports: PoolCapacityError[] = [];
  /** Time stamped on capacity reports. */
  reportClock: () => number = () => this.snapshot.observedAtMs;
  steersPerPool = false;
  /** Terminated instances stay listed, unchanged, until cleared: a provider whose listing lags. */
  lingerTerminated = false;
  readonly #errors = new Map<FleetMethod, unknown[]>();
  #seq = 0;
  constructor(
    public snapshot: FleetSnapshot,
    private readonly weight = 4,
  ) {}

  failNext(method: FleetMethod, ...errors: unknown[]): void {
    this.#errors.set(method, [...(this.#errors.get(method) ?? []), ...errors]);
  }
  #maybeFail(method: FleetMethod, args: unknown[]): void {
    this.calls.push({ method, args });
    const queue = this.#errors.get(method);
    const error = queue?.shift();
    if (error !== undefined) throw error;
  }
  callsOf(method: FleetMethod) {
    return this.calls.filter((c) => c.method === method);
  }
  instance(id: InstanceId): FleetInstance | undefined {
    return this.snapshot.instances.find((i) => i.instanceId === id);
  }

  async describe(): Promise<FleetSnapshot> {
    this.#maybeFail('describe', []);
    return structuredClone(this.snapshot);
  }
  async setTargetCapacity(request: CapacityRequest): Promise<void> {
    this.#maybeFail('setTargetCapacity', [request]);
    const have = new Map<string, number>();
    for (const i of this.snapshot.instances) {
      const id = `${i.instanceType}@${i.availabilityZone}`;
      have.set(id, (have.get(id) ?? 0) + i.weightUnits);
    }
    const instances = [...this.snapshot.instances];
    for (const [pool, units] of Object.entries(request.perPool ?? {})) {
      let missing = units - (have.get(pool) ?? 0);
      if (missing > 0 && this.shortPools.has(pool)) {
        const { instanceType, availabilityZone } = parsePoolId(pool);
        this.reports.push({
          instanceType,
          availabilityZone,
          atMs: this.reportClock(),
          code: 'InsufficientInstanceCapacity',
          message: `fake fleet history: no capacity for ${missing} units in ${pool}`,
        });
        continue;
      }
      while (missing > 0) {
        const { instanceType, availabilityZone } = parsePoolId(pool);
        instances.push({
          instanceId: `i-new-${this.#seq++}`,
          instanceType,
          availabilityZone,
          market: 'spot',
          state: 'ready',
          launchTimeMs: this.snapshot.observedAtMs,
          weightUnits: this.weight,
          tags: {},
        });
        missing -= this.weight;
      }
    }
    this.snapshot = {
      ...this.snapshot,
      targetUnits: request.totalUnits,
      instances,
      ...(this.steersPerPool && request.perPool ? { perPoolTargetUnits: { ...request.perPool } } : {}),
    };
  }
  async capacityErrors(sinceMs: number): Promise<PoolCapacityError[]> {
    this.#maybeFail('capacityErrors', [sinceMs]);
    return this.reports.filter((r) => r.atMs >= sinceMs);
  }
  async terminateInstance(instanceId: InstanceId, options: { decrementCapacity: boolean }): Promise<void> {
    this.#maybeFail('terminateInstance', [instanceId, options]);
    const inst = this.instance(instanceId);
    if (inst === undefined) throw new InstanceNotFoundError(instanceId);
    this.snapshot = {
      ...this.snapshot,
      targetUnits: this.snapshot.targetUnits - (options.decrementCapacity ? inst.weightUnits : 0),
      instances: this.lingerTerminated
        ? this.snapshot.instances
        : this.snapshot.instances.filter((i) => i.instanceId !== instanceId),
    };
  }
  async tagInstance(instanceId: InstanceId, tags: Readonly<Record<string, string>>): Promise<void> {
    this.#maybeFail('tagInstance', [instanceId, tags]);
    this.snapshot = {
      ...this.snapshot,
      instances: this.snapshot.instances.map((i) =>
        i.instanceId === instanceId ? { ...i, tags: { ...i.tags, ...tags } } : i,
      ),
    };
  }
  async untagInstance(instanceId: InstanceId, keys: readonly string[]): Promise<void> {
    this.#maybeFail('untagInstance', [instanceId, keys]);
    this.snapshot = {
      ...this.snapshot,
      instances: this.snapshot.instances.map((i) =>
        i.instanceId === instanceId
          ? { ...i, tags: Object.fromEntries(Object.entries(i.tags).filter(([k]) => !keys.includes(k))) }
          : i,
      ),
    };
  }
}

export class FakeMetrics implements MetricsSource {
  error: unknown;
  constructor(public next: (windowMs: number) => MetricsSnapshot | undefined) {}
  async observe(windowMs: number): Promise<MetricsSnapshot | undefined> {
    if (this.error !== undefined) throw this.error;
    return this.next(windowMs);
  }
}

export class FakeInterruptions implements InterruptionSource {
  queue: InterruptionNotice[] = [];
  acknowledged: InterruptionNotice[] = [];
  /** Redeliver everything not acknowledged (like SQS after the visibility timeout). */
  redeliver = false;
  async poll(): Promise<InterruptionNotice[]> {
    const out = [...this.queue];
    if (!this.redeliver) this.queue = [];
    return out;
  }
  async acknowledge(notices: readonly InterruptionNotice[]): Promise<void> {
    this.acknowledged.push(...notices);
  }
}

/** Workers whose drains complete at once, hang until released, or fail; status follows the drain. */
export class FakeWorkers implements WorkerControl {
  drainCalls: { instanceId: InstanceId; timeoutMs: number; reason: string }[] = [];
  checkpointCalls: InstanceId[] = [];
  mode: Record<InstanceId, 'complete' | 'hang' | Error> = {};
  states: Record<InstanceId, WorkerStatus['state']> = {};
  readonly #hung = new Map<InstanceId, (r: DrainResult) => void>();

  async drain(instanceId: InstanceId, options: { timeoutMs: number; reason: string }): Promise<DrainResult> {
    this.drainCalls.push({ instanceId, ...options });
    const mode = this.mode[instanceId] ?? 'complete';
    if (mode instanceof Error) throw mode;
    this.states[instanceId] = 'draining';
    const result = { instanceId, checkpointIds: [`cp-${instanceId}`], seconds: 3 };
    if (mode === 'complete') {
      this.states[instanceId] = 'drained';
      return result;
    }
    return new Promise((resolve) => this.#hung.set(instanceId, resolve));
  }
  /** Completes a hung drain. */
  release(instanceId: InstanceId): void {
    this.states[instanceId] = 'drained';
    this.#hung.get(instanceId)?.({ instanceId, checkpointIds: [`cp-${instanceId}`], seconds: 60 });
  }
  async checkpoint(instanceId: InstanceId): Promise<{ checkpointIds: string[]; seconds: number }> {
    this.checkpointCalls.push(instanceId);
    return { checkpointIds: [`cp-${instanceId}`], seconds: 1 };
  }
  async status(instanceId: InstanceId): Promise<WorkerStatus> {
    return { instanceId, state: this.states[instanceId] ?? 'ready', ownedPartitions: 1 };
  }
}

export class MemoryDecisionLog implements DecisionLog {
  records: DecisionLogRecord[] = [];
  async append(record: DecisionLogRecord): Promise<void> {
    this.records.push(JSON.parse(JSON.stringify(record)) as DecisionLogRecord);
  }
  kinds(): string[] {
    return this.records.map((r) => r.kind);
  }
  of(kind: string): DecisionLogRecord[] {
    return this.records.filter((r) => r.kind === kind);
  }
}
