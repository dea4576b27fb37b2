import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { AutoscalerPolicy } from '../../autoscaler/policy/policy-schema.js';
import { InstanceNotFoundError } from '../../autoscaler/ports/errors.js';
import {
  type CapacityRequest,
  DRAINING_TAG,
  type FleetInstance,
  type FleetProvider,
  type FleetSnapshot,
  type InstanceId,
  type InstanceState,
  type PoolId,
  parsePoolId,
  poolIdOf,
} from '../../autoscaler/ports/fleet-provider.js';
import { projectRoot } from '../local/paths.js';
import { workerEnv } from '../worker/worker-node-options.js';
import type { LocalFleetConfig } from './local-fleet-schema.js';

/** One local worker process as the fleet tracks it. */
export interface LocalInstance {
  instanceId: InstanceId;
  instanceType: string;
  availabilityZone: string;
  weightUnits: number;
  adminPort: number;
  imdsPort: number;
  state: InstanceState;
  launchTimeMs: number;
  readyTimeMs?: number;
  terminatedAtMs?: number;
  exitCode?: number | string;
  /** terminateInstance was called for it (an exit is then final, not a loss to replace). */
  terminateRequested: boolean;
  tags: Record<string, string>;
  configFile: string;
  logFile: string;
  child?: ChildProcess;
  exited?: Promise<number | string>;
}

/** Something that happened to an instance (the dashboard and the demo summary read these). */
export interface LocalFleetEvent {
  atMs: number;
  kind: 'launched' | 'ready' | 'exited' | 'terminate-requested';
  instanceId: InstanceId;
  instanceType: string;
  exitCode?: number | string;
  /** For `exited`: whether the autoscaler had asked for it (drain-then-terminate) or it left on its own. */
  requested?: boolean;
}

export interface LocalFleetOptions {
  config: LocalFleetConfig;
  policy: AutoscalerPolicy;
  /**
   * The raw (unvalidated) config document the workers share: kafka, cassandra, aws, worker, pipelines. Each
   * instance gets a copy with its own worker id, admin port and metadata endpoint.
   */
  baseDocument: Record<string, unknown>;
  /** Initial target capacity, units (launched at once). */
  initialUnits?: number;
  now?: () => number;
  fetch?: typeof fetch;
  onEvent?: (event: LocalFleetEvent) => void;
}

const READY_PROBE_TIMEOUT_MS = 1500;

/**
 * A FleetProvider whose instances are `liveagg worker` processes on this machine, so the real autoscaler, drain
 * protocol and interruption path run end to end without AWS. It behaves like a spot fleet of type "maintain": the
 * target capacity is kept by launching instances (per pool when a split is given), an instance that exits on its own
 * (interrupted, crashed) is replaced, and only `terminateInstance` with decrement lowers the target. An instance that
 * exits while tagged as draining waits in `shutting-down` for the autoscaler's terminate (so it is not replaced).
 */
export class LocalFleetProvider implements FleetProvider {
  readonly #opts: LocalFleetOptions;
  readonly #instances = new Map<InstanceId, LocalInstance>();
  readonly #now: () => number;
  readonly #fetch: typeof fetch;
  #targetUnits: number;
  #perPool: Record<PoolId, number> | undefined;
  #launches = 0;
  #stopping = false;

  constructor(opts: LocalFleetOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#fetch = opts.fetch ?? fetch;
    this.#targetUnits = opts.initialUnits ?? 0;
    mkdirSync(resolve(opts.config.stateDir), { recursive: true });
  }

  /** Launches the initial capacity. */
  async start(): Promise<void> {
    await this.#reconcile();
  }

  async describe(): Promise<FleetSnapshot> {
    await this.#probeReadiness();
    const now = this.#now();
    for (const [id, inst] of this.#instances) {
      if (
        inst.state === 'terminated' &&
        now - (inst.terminatedAtMs ?? now) > this.#opts.config.keepTerminatedMs
      )
        this.#instances.delete(id);
    }
    await this.#reconcile();
    return {
      observedAtMs: now,
      targetUnits: this.#targetUnits,
      ...(this.#perPool ? { perPoolTargetUnits: { ...this.#perPool } } : {}),
      instances: [...this.#instances.values()].map(toFleetInstance),
    };
  }

  async setTargetCapacity(request: CapacityRequest): Promise<void> {
    this.#targetUnits = request.totalUnits;
    this.#perPool = request.perPool ? { ...request.perPool } : undefined;
    await this.#reconcile();
  }

  async terminateInstance(instanceId: InstanceId, options: { decrementCapacity: boolean }): Promise<void> {
    const inst = this.#instances.get(instanceId);
    if (inst === undefined || (inst.state === 'terminated' && inst.terminateRequested))
      throw new InstanceNotFoundError(instanceId);
    inst.terminateRequested = true;
    this.#emit({ kind: 'terminate-requested', instanceId, instanceType: inst.instanceType });
    if (options.decrementCapacity) {
      this.#targetUnits = Math.max(0, this.#targetUnits - inst.weightUnits);
      const pool = poolIdOf(inst);
      if (this.#perPool?.[pool] !== undefined)
        this.#perPool[pool] = Math.max(0, this.#perPool[pool] - inst.weightUnits);
    }
    if (inst.child && inst.exitCode === undefined) {
      inst.state = 'shutting-down';
      this.#stop(inst);
    } else {
      this.#markTerminated(inst);
    }
  }

  async tagInstance(instanceId: InstanceId, tags: Readonly<Record<string, string>>): Promise<void> {
    const inst = this.#instances.get(instanceId);
    if (inst === undefined) throw new InstanceNotFoundError(instanceId);
    Object.assign(inst.tags, tags);
  }

  async untagInstance(instanceId: InstanceId, keys: readonly string[]): Promise<void> {
    const inst = this.#instances.get(instanceId);
    if (inst === undefined) throw new InstanceNotFoundError(instanceId);
    for (const k of keys) delete inst.tags[k];
  }

  /** The admin API base URL of an instance that still runs, else undefined. */
  async endpointOf(instanceId: InstanceId): Promise<string | undefined> {
    const inst = this.#instances.get(instanceId);
    if (inst === undefined || inst.state === 'terminated') return undefined;
    return `http://127.0.0.1:${inst.adminPort}`;
  }

  /** A tracked instance (for the interruption injector and the dashboard). */
  instance(instanceId: InstanceId): LocalInstance | undefined {
    return this.#instances.get(instanceId);
  }

  /** Every tracked instance, terminated ones included until they are forgotten. */
  instances(): LocalInstance[] {
    return [...this.#instances.values()];
  }

  /**
   * Stops every worker (SIGTERM: each drains, checkpoints and leaves the group) and waits for them to exit; no
   * replacements are launched afterwards. Resolves with the exit codes by instance.
   */
  async stopAll(): Promise<Record<InstanceId, number | string>> {
    this.#stopping = true;
    const running = [...this.#instances.values()].filter((i) => i.child && i.exitCode === undefined);
    for (const inst of running) {
      inst.terminateRequested = true;
      inst.state = 'shutting-down';
      this.#stop(inst);
    }
    const out: Record<InstanceId, number | string> = {};
    await Promise.all(
      running.map(async (i) => {
        out[i.instanceId] = (await i.exited) ?? -1;
      }),
    );
    return out;
  }

  /** Launches instances until live capacity reaches the target (per pool when a split was requested). */
  async #reconcile(): Promise<void> {
    if (this.#stopping) return;
    const live = [...this.#instances.values()].filter((i) => holdsCapacity(i));
    const pools = this.#opts.policy.pools.map(poolIdOf);
    if (pools.length === 0) return;
    const held = new Map<PoolId, number>();
    for (const i of live) held.set(poolIdOf(i), (held.get(poolIdOf(i)) ?? 0) + i.weightUnits);
    let total = [...held.values()].reduce((a, b) => a + b, 0);
    const launches: PoolId[] = [];
    if (this.#perPool) {
      for (const [pool, units] of Object.entries(this.#perPool)) {
        let have = held.get(pool) ?? 0;
        const w = this.#weightOf(parsePoolId(pool).instanceType);
        while (have + w <= units + 1e-9 && total + w <= this.#targetUnits + 1e-9) {
          launches.push(pool);
          have += w;
          total += w;
        }
      }
    }
    // Whatever the split did not place goes to the emptiest pools, smallest weight first.
    for (let guard = 0; total < this.#targetUnits - 1e-9 && guard < 1000; guard++) {
      // Pools whose type fits in what is missing (no overshoot); else the smallest type.
      const remaining = this.#targetUnits - total;
      const fitting = pools.filter((p) => this.#weightOf(parsePoolId(p).instanceType) <= remaining + 1e-9);
      const pool = [...(fitting.length > 0 ? fitting : pools)].sort(
        (a, b) =>
          (held.get(a) ?? 0) - (held.get(b) ?? 0) ||
          this.#weightOf(parsePoolId(a).instanceType) - this.#weightOf(parsePoolId(b).instanceType) ||
          a.localeCompare(b),
      )[0]!;
      const w = this.#weightOf(parsePoolId(pool).instanceType);
      launches.push(pool);
      held.set(pool, (held.get(pool) ?? 0) + w);
      total += w;
    }
    for (const pool of launches) await this.#launch(pool);
  }

  #weightOf(type: string): number {
    return this.#opts.policy.instanceTypes.find((t) => t.name === type)?.weight ?? 1;
  }

  async #launch(pool: PoolId): Promise<void> {
    const { config } = this.#opts;
    const { instanceType, availabilityZone } = parsePoolId(pool);
    const n = this.#launches++;
    const slot = this.#freeSlot(n);
    const instanceId = `${instanceType.replaceAll('.', '-')}-${n}`;
    const adminPort = config.adminPortBase + slot;
    const imdsPort = config.imdsPortBase + slot;
    const dir = resolve(config.stateDir);
    const configFile = join(dir, `${instanceId}.yaml`);
    const logFile = join(dir, `${instanceId}.log`);
    await writeFile(
      configFile,
      stringify(workerDocument(this.#opts.baseDocument, instanceId, adminPort, imdsPort, config)),
    );
    const inst: LocalInstance = {
      instanceId,
      instanceType,
      availabilityZone,
      weightUnits: this.#weightOf(instanceType),
      adminPort,
      imdsPort,
      state: 'pending',
      launchTimeMs: this.#now(),
      terminateRequested: false,
      tags: { 'liveagg:slot': String(slot) },
      configFile,
      logFile,
    };
    this.#instances.set(instanceId, inst);
    this.#emit({ kind: 'launched', instanceId, instanceType });
    const boot = () => {
      if (inst.terminateRequested) return this.#markTerminated(inst);
      this.#spawn(inst);
    };
    if (config.bootDelayMs > 0) setTimeout(boot, config.bootDelayMs).unref();
    else boot();
  }

  /** A port slot no live instance uses (launch n prefers slot n mod span). */
  #freeSlot(n: number): number {
    const span = this.#opts.config.portSpan;
    const used = new Set(
      [...this.#instances.values()]
        .filter((i) => i.state !== 'terminated')
        .map((i) => Number(i.tags['liveagg:slot'])),
    );
    for (let k = 0; k < span; k++) {
      const slot = (n + k) % span;
      if (!used.has(slot)) return slot;
    }
    throw new Error(`local fleet: all ${span} port slots are taken; raise localFleet.portSpan`);
  }

  #spawn(inst: LocalInstance): void {
    const [cmd, ...args] = this.#opts.config.command ?? defaultCommand();
    const log = createWriteStream(inst.logFile, { flags: 'a' });
    const child = spawn(cmd!, [...args, 'worker', '--config', inst.configFile], {
      cwd: projectRoot(),
      env: workerEnv({ ...process.env, LIVEAGG_LOG_LEVEL: process.env['LIVEAGG_LOG_LEVEL'] ?? 'info' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    inst.child = child;
    inst.state = 'running';
    inst.exited = new Promise((done) => {
      child.on('exit', (code, signal) => {
        inst.exitCode = code ?? signal ?? -1;
        this.#emit({
          kind: 'exited',
          instanceId: inst.instanceId,
          instanceType: inst.instanceType,
          exitCode: inst.exitCode,
          requested: inst.terminateRequested,
        });
        // Drained for the autoscaler but not terminated yet: keep its capacity until the terminate call.
        if (!inst.terminateRequested && inst.tags[DRAINING_TAG] !== undefined) inst.state = 'shutting-down';
        else this.#markTerminated(inst);
        done(inst.exitCode);
      });
      child.on('error', () => {
        if (inst.exitCode === undefined) {
          inst.exitCode = -1;
          this.#markTerminated(inst);
          done(-1);
        }
      });
    });
  }

  #stop(inst: LocalInstance): void {
    const child = inst.child;
    if (!child || inst.exitCode !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (inst.exitCode === undefined) child.kill('SIGKILL');
    }, this.#opts.config.stopTimeoutMs);
    timer.unref();
    void inst.exited?.then(() => clearTimeout(timer));
  }

  #markTerminated(inst: LocalInstance): void {
    inst.state = 'terminated';
    // A terminated instance is no longer draining (the loop would otherwise "recover" its drain every tick).
    for (const key of Object.keys(inst.tags)) if (key.startsWith('liveagg:drain')) delete inst.tags[key];
    inst.terminatedAtMs = this.#now();
  }

  /** Running instances whose worker answers /readyz become ready; a ready one that stops answering stays ready. */
  async #probeReadiness(): Promise<void> {
    const candidates = [...this.#instances.values()].filter((i) => i.state === 'running');
    await Promise.all(
      candidates.map(async (inst) => {
        try {
          const res = await this.#fetch(`http://127.0.0.1:${inst.adminPort}/readyz`, {
            signal: AbortSignal.timeout(READY_PROBE_TIMEOUT_MS),
          });
          await res.text();
          if (res.ok && inst.state === 'running') {
            inst.state = 'ready';
            inst.readyTimeMs = this.#now();
            this.#emit({ kind: 'ready', instanceId: inst.instanceId, instanceType: inst.instanceType });
          }
        } catch {
          // Not listening yet.
        }
      }),
    );
  }

  #emit(e: Omit<LocalFleetEvent, 'atMs'>): void {
    this.#opts.onEvent?.({ atMs: this.#now(), ...e });
  }
}

/** Counts toward capacity: launched and not gone (a drained worker waiting for its terminate still counts). */
function holdsCapacity(i: LocalInstance): boolean {
  if (i.state === 'terminated') return false;
  if (i.state === 'shutting-down') return !i.terminateRequested;
  return true;
}

function toFleetInstance(i: LocalInstance): FleetInstance {
  return {
    instanceId: i.instanceId,
    instanceType: i.instanceType,
    availabilityZone: i.availabilityZone,
    market: 'spot',
    state: i.state,
    launchTimeMs: i.launchTimeMs,
    ...(i.readyTimeMs !== undefined ? { readyTimeMs: i.readyTimeMs } : {}),
    weightUnits: i.weightUnits,
    tags: { ...i.tags },
  };
}

/** The worker config of one instance: the shared document with its id, admin port and metadata endpoint. */
export function workerDocument(
  base: Record<string, unknown>,
  instanceId: string,
  adminPort: number,
  imdsPort: number,
  config: Pick<LocalFleetConfig, 'notices'>,
): Record<string, unknown> {
  const worker = { ...((base['worker'] as Record<string, unknown> | undefined) ?? {}) };
  const admin = { ...((worker['admin'] as Record<string, unknown> | undefined) ?? {}) };
  const notices = { ...((worker['notices'] as Record<string, unknown> | undefined) ?? {}) };
  const aws = { ...((base['aws'] as Record<string, unknown> | undefined) ?? {}) };
  if (config.notices) {
    notices['enabled'] = true;
    notices['pollIntervalMs'] ??= 1000;
    aws['imdsEndpoint'] = `http://127.0.0.1:${imdsPort}`;
  }
  const doc: Record<string, unknown> = {};
  for (const key of ['stack', 'kafka', 'cassandra', 'pipelines'])
    if (base[key] !== undefined) doc[key] = base[key];
  doc['aws'] = aws;
  doc['worker'] = {
    ...worker,
    id: instanceId,
    admin: { ...admin, host: '127.0.0.1', port: adminPort },
    notices,
  };
  return doc;
}

/** How to run `liveagg` again: compiled (bin/liveagg.js) or, when running from source, through tsx. */
export function defaultCommand(): string[] {
  const root = projectRoot();
  if (import.meta.url.endsWith('.ts'))
    return [process.execPath, '--import', 'tsx', join(root, 'infra/cli/run.ts')];
  return [process.execPath, join(root, 'bin/liveagg.js')];
}
