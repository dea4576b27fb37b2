import {
  AutoscalerPortError,
  DrainTimeoutError,
  InstanceNotFoundError,
} from '../../autoscaler/ports/errors.js';
import type { InstanceId } from '../../autoscaler/ports/fleet-provider.js';
import type { DrainResult, WorkerControl, WorkerStatus } from '../../autoscaler/ports/worker-control.js';

/** The worker's admin API did not answer (booting, crashed, network): retry later. */
export class WorkerUnreachableError extends AutoscalerPortError {
  constructor(instanceId: InstanceId, url: string, options?: { cause?: unknown }) {
    super(
      'WORKER_UNREACHABLE',
      `worker ${instanceId} did not answer at ${url}; it may still be booting or has crashed (check its admin port and security group)`,
      true,
      options,
    );
    this.name = 'WorkerUnreachableError';
  }
}

/** The admin API refused or failed the request. */
export class WorkerRequestError extends AutoscalerPortError {
  readonly status: number;
  constructor(instanceId: InstanceId, url: string, status: number, body: string) {
    super(
      status === 401 ? 'WORKER_UNAUTHORIZED' : 'WORKER_REQUEST_FAILED',
      status === 401
        ? `worker ${instanceId} refused ${url} (401): the autoscaler's admin token does not match worker.admin.token`
        : `worker ${instanceId} answered ${url} with HTTP ${status}: ${body.slice(0, 300)}`,
      status >= 500,
    );
    this.name = 'WorkerRequestError';
    this.status = status;
  }
}

export interface WorkerControlClientOptions {
  /** Base URL of a worker's admin API (`http://10.0.1.7:9464`), or undefined when the instance is unknown/gone. */
  endpointOf: (instanceId: InstanceId) => Promise<string | undefined>;
  /** Bearer token for POST /drain and /checkpoint (worker.admin.token). */
  token?: string;
  /** Timeout of GET /status and /readyz, and of POST /checkpoint. */
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

interface DrainBody {
  checkpoints?: { id?: string }[];
  seconds?: number;
  complete?: boolean;
  problems?: string[];
}

interface StatusBody {
  draining?: boolean;
  memory?: { usedBytes?: number };
  partitions?: { checkpointAgeSeconds?: number }[];
}

/**
 * WorkerControl over the workers' admin HTTP API (infra/http/admin-server.ts): POST /drain and /checkpoint with the
 * bearer token, GET /status and /readyz. A drain that does not answer within `timeoutMs`, or answers `complete: false`
 * (the worker's own deadline passed first), is a DrainTimeoutError; asking again joins the same drain on the worker.
 */
export class WorkerControlClient implements WorkerControl {
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  constructor(private readonly options: WorkerControlClientOptions) {
    this.fetchFn = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  async drain(instanceId: InstanceId, options: { timeoutMs: number; reason: string }): Promise<DrainResult> {
    const started = this.now();
    let body: DrainBody;
    try {
      body = (await this.request(instanceId, 'POST', '/drain', options.timeoutMs, {
        reason: options.reason,
      })) as DrainBody;
    } catch (error) {
      if (isTimeout(error)) throw new DrainTimeoutError(instanceId, options.timeoutMs, { cause: error });
      throw error;
    }
    if (body.complete === false) {
      throw new DrainTimeoutError(instanceId, options.timeoutMs, {
        cause: new Error((body.problems ?? []).join('; ')),
      });
    }
    return {
      instanceId,
      checkpointIds: (body.checkpoints ?? []).flatMap((c) => (c.id ? [c.id] : [])),
      seconds: body.seconds ?? (this.now() - started) / 1000,
    };
  }

  async checkpoint(instanceId: InstanceId): Promise<{ checkpointIds: string[]; seconds: number }> {
    const started = this.now();
    const body = (await this.request(instanceId, 'POST', '/checkpoint', this.timeoutMs())) as DrainBody;
    return {
      checkpointIds: (body.checkpoints ?? []).flatMap((c) => (c.id ? [c.id] : [])),
      seconds: (this.now() - started) / 1000,
    };
  }

  async status(instanceId: InstanceId): Promise<WorkerStatus> {
    let body: StatusBody;
    try {
      body = (await this.request(instanceId, 'GET', '/status', this.timeoutMs())) as StatusBody;
    } catch {
      return { instanceId, state: 'unreachable', ownedPartitions: 0 };
    }
    const partitions = body.partitions ?? [];
    let state: WorkerStatus['state'];
    if (body.draining) state = 'draining';
    else state = (await this.isReady(instanceId)) ? 'ready' : 'starting';
    const status: WorkerStatus = { instanceId, state, ownedPartitions: partitions.length };
    if (typeof body.memory?.usedBytes === 'number') status.stateBytes = body.memory.usedBytes;
    const ages = partitions.flatMap((p) =>
      typeof p.checkpointAgeSeconds === 'number' ? [p.checkpointAgeSeconds] : [],
    );
    if (ages.length > 0) status.checkpointAgeMs = Math.max(...ages) * 1000;
    return status;
  }

  private async isReady(instanceId: InstanceId): Promise<boolean> {
    const base = await this.options.endpointOf(instanceId);
    if (!base) return false;
    try {
      const res = await this.fetchFn(new URL('/readyz', base), {
        signal: AbortSignal.timeout(this.timeoutMs()),
      });
      await res.text();
      return res.ok;
    } catch {
      return false;
    }
  }

  private timeoutMs(): number {
    return this.options.requestTimeoutMs ?? 10_000;
  }

  private async request(
    instanceId: InstanceId,
    method: 'GET' | 'POST',
    path: string,
    timeoutMs: number,
    body?: unknown,
  ): Promise<unknown> {
    const base = await this.options.endpointOf(instanceId);
    if (!base) throw new InstanceNotFoundError(instanceId);
    const url = new URL(path, base).toString();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (method === 'POST') {
      headers['content-type'] = 'application/json';
      if (this.options.token) headers['authorization'] = `Bearer ${this.options.token}`;
    }
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method,
        headers,
        signal: AbortSignal.timeout(timeoutMs),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      if (isTimeout(error)) throw error;
      throw new WorkerUnreachableError(instanceId, url, { cause: error });
    }
    const text = await res.text();
    if (!res.ok) throw new WorkerRequestError(instanceId, url, res.status, text);
    return text === '' ? {} : (JSON.parse(text) as unknown);
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}
