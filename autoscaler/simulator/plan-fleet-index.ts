import type { PlanFleetView } from '../plan/plan-types.js';
import { instancePoolId } from '../plan/pool-split.js';
import { DRAINING_TAG, type FleetInstance, type InstanceId, type PoolId } from '../ports/fleet-provider.js';
import type { InterruptionNotice } from '../ports/interruption-source.js';
import type { WorkerObservation, WorkerStreamObservation } from '../ports/metrics-source.js';
import type { SimInstance } from './sim-fleet.js';

/**
 * Items kept in launch order (`seq` ascending): launches append, changes binary-search and replace in place, and
 * removals leave a hole that is closed once, on the next read of `items` (a tick's terminations cost one pass).
 */
class SeqList<T> {
  private slots: (T | undefined)[] = [];
  private seqs: number[] = [];
  private holes = 0;

  get items(): readonly T[] {
    if (this.holes > 0) this.compact();
    return this.slots as T[];
  }

  private at(seq: number): number {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.seqs[mid] as number) < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(seq: number, item: T): void {
    const n = this.seqs.length;
    if (n === 0 || (this.seqs[n - 1] as number) < seq) {
      this.seqs.push(seq);
      this.slots.push(item);
      return;
    }
    const k = this.at(seq);
    if (this.seqs[k] === seq) {
      if (this.slots[k] === undefined) this.holes--;
      this.slots[k] = item;
      return;
    }
    this.seqs.splice(k, 0, seq);
    this.slots.splice(k, 0, item);
  }

  remove(seq: number): void {
    const k = this.at(seq);
    if (this.seqs[k] !== seq || this.slots[k] === undefined) return;
    this.slots[k] = undefined;
    this.holes++;
  }

  private compact(): void {
    let j = 0;
    for (let k = 0; k < this.slots.length; k++) {
      const item = this.slots[k];
      if (item === undefined) continue;
      this.slots[j] = item;
      this.seqs[j] = this.seqs[k] as number;
      j++;
    }
    this.slots.length = j;
    this.seqs.length = j;
    this.holes = 0;
  }
}

/** A worker observation the index refreshes in place every tick. */
interface SimWorker extends WorkerObservation {
  streams: WorkerStreamObservation[];
}

interface Entry {
  inst: SimInstance;
  /** State and notice the FleetInstance view was made for. */
  key: string;
  fleet: FleetInstance;
  pool: PoolId;
  leaving: boolean;
  /** Counted in the staying ready units. */
  readyStaying: boolean;
  /** Consuming: has a worker observation. */
  worker: SimWorker | undefined;
  notice: InterruptionNotice | undefined;
}

/**
 * The simulated fleet as the planner sees it, kept up to date from the fleet's change log instead of being rebuilt
 * every tick: the instances as FleetInstances (launch order, as the fleet lists them), the planner's split into
 * staying and leaving ({@link PlanFleetView}), staying units per pool, the interruption notices, and one worker
 * observation per consuming instance. `apply` takes an instance whose fields changed (or that was launched or
 * terminated); applying an unchanged instance again is harmless.
 */
export class PlanFleetIndex implements PlanFleetView {
  private readonly all = new SeqList<FleetInstance>();
  private readonly stayingList = new SeqList<FleetInstance>();
  private readonly leavingList = new SeqList<FleetInstance>();
  private readonly noticeList = new SeqList<InterruptionNotice>();
  private readonly workerList = new SeqList<SimWorker>();
  private readonly workerInstances = new SeqList<SimInstance>();
  private readonly entries = new Map<InstanceId, Entry>();
  private readonly pools = new Map<PoolId, number>();
  stayingReadyUnits = 0;
  /** Units draining or under a notice (in the fleet's target until they terminate). */
  leavingUnits = 0;

  constructor(private readonly stream: string) {}

  get instances(): readonly FleetInstance[] {
    return this.all.items;
  }
  get staying(): readonly FleetInstance[] {
    return this.stayingList.items;
  }
  get leaving(): readonly FleetInstance[] {
    return this.leavingList.items;
  }
  get stayingPoolUnits(): ReadonlyMap<PoolId, number> {
    return this.pools;
  }
  /** Interruption warnings of the live instances under notice, in launch order. */
  get notices(): readonly InterruptionNotice[] {
    return this.noticeList.items;
  }
  /** One observation per consuming instance (ready, notice or not), in launch order; see {@link refreshWorkers}. */
  get workers(): readonly SimWorker[] {
    return this.workerList.items;
  }

  isLive(id: InstanceId): boolean {
    return this.entries.has(id);
  }

  apply(inst: SimInstance): void {
    const prev = this.entries.get(inst.id);
    if (inst.state === 'terminated') {
      if (prev) this.unlink(prev);
      this.entries.delete(inst.id);
      return;
    }
    const key = `${inst.state}|${inst.noticeMs ?? ''}`;
    if (prev && prev.key === key && prev.notice?.deadlineMs === noticeDeadline(inst)) return;
    // One FleetInstance per instance, updated in place (the planner keeps none between ticks, and memoizes its
    // pool on the object).
    const fleet = prev
      ? prev.key === key
        ? prev.fleet
        : refreshFleetInstance(prev.fleet, inst)
      : fleetInstanceOf(inst);
    const leaving = inst.noticeMs !== undefined || inst.state === 'draining';
    const entry: Entry = {
      inst,
      key,
      fleet,
      pool: prev?.pool ?? instancePoolId(fleet),
      leaving,
      readyStaying: !leaving && fleet.state === 'ready',
      worker: inst.state === 'ready' ? (prev?.worker ?? newWorker(inst, this.stream)) : undefined,
      notice:
        inst.noticeMs !== undefined
          ? {
              instanceId: inst.id,
              kind: 'interruption',
              deadlineMs: noticeDeadline(inst),
              issuedAtMs: inst.noticeMs,
              instanceType: inst.type,
              availabilityZone: inst.az,
            }
          : undefined,
    };
    if (prev) this.update(prev, entry);
    else this.link(entry);
    this.entries.set(inst.id, entry);
  }

  /** Moves an instance from its old entry to its new one: replaced in place in the lists it stays in. */
  private update(prev: Entry, next: Entry): void {
    const seq = next.inst.seq;
    const units = next.inst.units;
    this.all.insert(seq, next.fleet);
    if (prev.leaving && next.leaving) this.leavingList.insert(seq, next.fleet);
    else if (!prev.leaving && !next.leaving) {
      this.stayingList.insert(seq, next.fleet);
      this.stayingReadyUnits += (next.readyStaying ? units : 0) - (prev.readyStaying ? units : 0);
    } else {
      // Staying ↔ leaving: the sums move too.
      this.unlinkSide(prev);
      this.linkSide(next);
    }
    if (next.notice) this.noticeList.insert(seq, next.notice);
    else if (prev.notice) this.noticeList.remove(seq);
    if (next.worker && !prev.worker) {
      this.workerList.insert(seq, next.worker);
      this.workerInstances.insert(seq, next.inst);
    } else if (!next.worker && prev.worker) {
      this.workerList.remove(seq);
      this.workerInstances.remove(seq);
    }
  }

  /**
   * Refreshes the worker observations for the last step: the fleet's processed records shared by consuming
   * instances in proportion to their rate, busy CPU accordingly, and the fleet's state likewise.
   */
  refreshWorkers(
    processedRate: number,
    readyRate: number,
    windowSec: number,
    stateBytes: number,
    bytesPerSeries: number,
  ): void {
    const insts = this.workerInstances.items;
    const workers = this.workerList.items;
    for (let k = 0; k < workers.length; k++) {
      const inst = insts[k] as SimInstance;
      const w = workers[k] as SimWorker;
      const share = readyRate > 0 ? inst.rate / readyRate : 0;
      const records = processedRate * share * windowSec;
      const busy = (records / inst.rate) * inst.units;
      const bytes = stateBytes * share;
      const s = w.streams[0] as WorkerStreamObservation;
      s.records = records;
      s.busyCpuSeconds = busy;
      w.busyCpuSeconds = busy;
      w.stateBytes = bytes;
      w.liveSeries = Math.round(bytes / bytesPerSeries);
    }
  }

  private link(e: Entry): void {
    const seq = e.inst.seq;
    this.all.insert(seq, e.fleet);
    this.linkSide(e);
    if (e.notice) this.noticeList.insert(seq, e.notice);
    if (e.worker) {
      this.workerList.insert(seq, e.worker);
      this.workerInstances.insert(seq, e.inst);
    }
  }

  private linkSide(e: Entry): void {
    const seq = e.inst.seq;
    const units = e.inst.units;
    if (e.leaving) {
      this.leavingList.insert(seq, e.fleet);
      this.leavingUnits += units;
    } else {
      this.stayingList.insert(seq, e.fleet);
      this.pools.set(e.pool, (this.pools.get(e.pool) ?? 0) + units);
      if (e.readyStaying) this.stayingReadyUnits += units;
    }
  }

  private unlink(e: Entry): void {
    const seq = e.inst.seq;
    this.all.remove(seq);
    this.unlinkSide(e);
    if (e.notice) this.noticeList.remove(seq);
    if (e.worker) {
      this.workerList.remove(seq);
      this.workerInstances.remove(seq);
    }
  }

  private unlinkSide(e: Entry): void {
    const seq = e.inst.seq;
    const units = e.inst.units;
    if (e.leaving) {
      this.leavingList.remove(seq);
      this.leavingUnits -= units;
    } else {
      this.stayingList.remove(seq);
      const left = (this.pools.get(e.pool) ?? 0) - units;
      if (left > 1e-9) this.pools.set(e.pool, left);
      else this.pools.delete(e.pool);
      if (e.readyStaying) this.stayingReadyUnits -= units;
    }
  }
}

function noticeDeadline(inst: SimInstance): number | undefined {
  return inst.noticeMs === undefined ? undefined : (inst.endMs ?? inst.noticeMs + 120_000);
}

/** The instance as a fleet provider lists it: spot, pending until ready, draining-tagged while drained for scale-in. */
export function fleetInstanceOf(inst: SimInstance): FleetInstance {
  return {
    instanceId: inst.id,
    instanceType: inst.type,
    availabilityZone: inst.az,
    market: 'spot',
    state: inst.state === 'booting' ? 'pending' : inst.state === 'terminated' ? 'terminated' : 'ready',
    launchTimeMs: inst.launchedMs,
    ...(inst.state === 'ready' || inst.state === 'draining' ? { readyTimeMs: inst.readyMs } : {}),
    weightUnits: inst.units,
    tags:
      inst.state === 'draining' && inst.noticeMs === undefined
        ? { [DRAINING_TAG]: String(inst.endMs ?? inst.readyMs) }
        : {},
  };
}

/** Brings a FleetInstance made by {@link fleetInstanceOf} up to the instance's current state. */
function refreshFleetInstance(target: FleetInstance, inst: SimInstance): FleetInstance {
  const now = fleetInstanceOf(inst);
  target.state = now.state;
  if (now.readyTimeMs !== undefined) target.readyTimeMs = now.readyTimeMs;
  target.tags = now.tags;
  return target;
}

function newWorker(inst: SimInstance, stream: string): SimWorker {
  return {
    instanceId: inst.id,
    instanceType: inst.type,
    streams: [{ stream, records: 0, busyCpuSeconds: 0 }],
    busyCpuSeconds: 0,
    stateBytes: 0,
    liveSeries: 0,
  };
}
