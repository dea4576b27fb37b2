import type { InstanceId } from '../../autoscaler/ports/fleet-provider.js';
import type { InterruptionNotice, InterruptionSource } from '../../autoscaler/ports/interruption-source.js';
import { startImdsScenario } from '../local/imds-service.js';
import type { LocalFleetProvider } from './local-fleet-provider.js';

/** The two-minute warning of an EC2 spot interruption. */
export const SPOT_NOTICE_MS = 120_000;

/**
 * Interruption warnings for the local fleet, as EventBridge → SQS delivers them on AWS: the injector pushes a notice
 * here when it interrupts an instance, and the loop polls it. Delivered once; acknowledge is a no-op.
 */
export class LocalInterruptionSource implements InterruptionSource {
  #queue: InterruptionNotice[] = [];

  /** Queues a notice for the next poll. */
  push(notice: InterruptionNotice): void {
    this.#queue.push(notice);
  }

  async poll(): Promise<InterruptionNotice[]> {
    const out = this.#queue;
    this.#queue = [];
    return out;
  }

  async acknowledge(): Promise<void> {}
}

/** How a notice reaches the worker: its own metadata endpoint (a spot-scenario mock), or only the autoscaler. */
export type InjectionPath = 'imds' | 'direct';

/** One injected interruption and what came of it. */
export interface InjectedInterruption {
  instanceId: InstanceId;
  instanceType: string;
  via: InjectionPath;
  issuedAtMs: number;
  deadlineMs: number;
  /** Exit code of the worker once it left (0 = drained cleanly). */
  exitCode?: number | string;
  exitedAtMs?: number;
}

export interface InterruptionInjectorOptions {
  fleet: LocalFleetProvider;
  source: LocalInterruptionSource;
  now?: () => number;
  /** Seconds after the mock starts when its notice appears (the worker polls it every second or so). */
  imdsDelaySec?: number;
}

/**
 * Delivers a spot interruption warning to one local instance: through a metadata mock serving
 * `spot/instance-action` on that instance's metadata port (the worker drains on its own, as on EC2), and to the
 * autoscaler's interruption source (as EventBridge would). With `direct`, only the autoscaler hears of it and drains
 * the worker over its admin API. Either way the instance is stopped at the notice's deadline if still running.
 */
export class InterruptionInjector {
  readonly #opts: InterruptionInjectorOptions;
  readonly #now: () => number;
  readonly #injected: InjectedInterruption[] = [];
  readonly #mocks: { stop(): Promise<void> }[] = [];

  constructor(opts: InterruptionInjectorOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Every interruption injected so far. */
  get injected(): readonly InjectedInterruption[] {
    return this.#injected;
  }

  /** Interrupts `instanceId` (or the ready instance launched first, when omitted). Resolves with the record. */
  async interrupt(instanceId?: InstanceId, via: InjectionPath = 'imds'): Promise<InjectedInterruption> {
    const { fleet, source } = this.#opts;
    const inst =
      instanceId !== undefined
        ? fleet.instance(instanceId)
        : fleet.instances().find((i) => i.state === 'ready' && i.tags['liveagg:draining'] === undefined);
    if (inst === undefined || inst.state === 'terminated' || inst.state === 'pending')
      throw new Error(
        `cannot interrupt ${instanceId ?? '(any)'}: no such running instance in the local fleet; pick one from the fleet's ready instances`,
      );
    const issuedAtMs = this.#now();
    const record: InjectedInterruption = {
      instanceId: inst.instanceId,
      instanceType: inst.instanceType,
      via,
      issuedAtMs,
      deadlineMs: issuedAtMs + SPOT_NOTICE_MS,
    };
    this.#injected.push(record);
    if (via === 'imds') {
      const mock = await startImdsScenario({
        port: inst.imdsPort,
        action: 'terminate',
        delaySec: this.#opts.imdsDelaySec ?? 5,
      });
      this.#mocks.push(mock);
    }
    source.push({
      instanceId: inst.instanceId,
      kind: 'interruption',
      deadlineMs: record.deadlineMs,
      issuedAtMs,
      instanceType: inst.instanceType,
      availabilityZone: inst.availabilityZone,
    });
    const deadline = setTimeout(() => {
      if (inst.exitCode === undefined)
        void fleet.terminateInstance(inst.instanceId, { decrementCapacity: false });
    }, SPOT_NOTICE_MS);
    deadline.unref();
    void inst.exited?.then((code) => {
      clearTimeout(deadline);
      record.exitCode = code;
      record.exitedAtMs = this.#now();
    });
    return record;
  }

  /** Stops the metadata mocks this injector started. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#mocks.splice(0).map((m) => m.stop()));
  }
}
