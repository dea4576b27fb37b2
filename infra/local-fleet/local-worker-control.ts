import type { InstanceId } from '../../autoscaler/ports/fleet-provider.js';
import type { DrainResult, WorkerControl, WorkerStatus } from '../../autoscaler/ports/worker-control.js';
import type { LocalFleetProvider } from './local-fleet-provider.js';

/**
 * WorkerControl for local workers: the admin API while the process runs; once it has exited with code 0 (a worker
 * exits 0 only after a complete drain — on its own spot notice, say), the drain is reported done instead of the
 * worker being "unreachable", as an EC2 lifecycle hook would tell the autoscaler.
 */
export class LocalWorkerControl implements WorkerControl {
  constructor(
    private readonly inner: WorkerControl,
    private readonly fleet: LocalFleetProvider,
  ) {}

  #drainedExit(instanceId: InstanceId): boolean {
    const inst = this.fleet.instance(instanceId);
    return inst !== undefined && inst.exitCode === 0;
  }

  async drain(instanceId: InstanceId, options: { timeoutMs: number; reason: string }): Promise<DrainResult> {
    if (this.#drainedExit(instanceId)) return { instanceId, checkpointIds: [], seconds: 0 };
    try {
      return await this.inner.drain(instanceId, options);
    } catch (error) {
      // The worker finished its own drain and exited while this request was on its way.
      const inst = this.fleet.instance(instanceId);
      if (inst?.exited && inst.exitCode === undefined) {
        const code = await Promise.race([inst.exited, new Promise((r) => setTimeout(r, 2000, undefined))]);
        if (code === 0) return { instanceId, checkpointIds: [], seconds: 0 };
      }
      if (this.#drainedExit(instanceId)) return { instanceId, checkpointIds: [], seconds: 0 };
      throw error;
    }
  }

  checkpoint(instanceId: InstanceId): Promise<{ checkpointIds: string[]; seconds: number }> {
    return this.inner.checkpoint(instanceId);
  }

  async status(instanceId: InstanceId): Promise<WorkerStatus> {
    if (this.#drainedExit(instanceId)) return { instanceId, state: 'drained', ownedPartitions: 0 };
    return this.inner.status(instanceId);
  }
}
