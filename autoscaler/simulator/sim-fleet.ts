import type { Random } from './seeded-random.js';
import type { SimFleetConfig } from './sim-config-schema.js';
import type { SpotMarket, SpotPool } from './spot-market.js';

/** Lifecycle of a simulated instance. `noticeMs` marks one AWS will reclaim (2-minute warning). */
export type SimInstanceState = 'booting' | 'ready' | 'draining' | 'terminated';

export interface SimInstance {
  readonly id: string;
  /** Launch order (ids sort the same way): the fleet lists its instances in this order. */
  readonly seq: number;
  readonly pool: number;
  readonly type: string;
  readonly az: string;
  /** Capacity units (vCPUs). */
  readonly units: number;
  /** Records/s at 100 % CPU. */
  readonly rate: number;
  readonly launchedMs: number;
  readonly readyMs: number;
  state: SimInstanceState;
  /** When the interruption warning arrived, if one did. */
  noticeMs?: number;
  /** When the instance stops being billed (drain end or reclaim). */
  endMs?: number;
}

/** What a policy may read about the simulated fleet. */
export interface SimFleetView {
  /** Units of instances that are consuming now (ready, including those under notice until they stop). */
  readonly readyUnits: number;
  /** Records/s the consuming instances sustain at 100 % CPU. */
  readonly readyRate: number;
  /** Units launched and not ready yet (not under notice). */
  readonly bootingUnits: number;
  /** Units that stay: booting or ready, not under notice, not draining. What `desiredUnits` is compared to. */
  readonly activeUnits: number;
  /** Units under an interruption notice (still billed, soon gone). */
  readonly noticedUnits: number;
  /** Units draining (billed, not consuming). */
  readonly drainingUnits: number;
  /** Live (not terminated) instances, in launch order. */
  instances(): Iterable<SimInstance>;
  /**
   * Starts recording every instance that is launched or changes state, lifecycle field or notice (terminations
   * included) from now on, so an observer can keep its own view of the fleet up to date between ticks.
   */
  trackChanges?(): SimFleetChangeLog;
}

/** Instances changed since the last `take` (an instance may appear more than once; read its current fields). */
export interface SimFleetChangeLog {
  take(): SimInstance[];
}

/** Changes of consuming capacity since the last `takeChanges` (they cause rebalance pauses). */
export interface CapacityChanges {
  joinedRate: number;
  leftRate: number;
}

/**
 * The simulated fleet provider ("maintain" semantics, like a Spot Fleet or an ASG with a
 * mixed-instances policy): launches into the cheapest pools, drains victims before terminating
 * them, and turns interruption warnings into lost capacity after the notice. Transitions are
 * applied at step boundaries; all delays are fleet-wide constants, so each queue stays sorted.
 */
export class SimFleet implements SimFleetView {
  readyUnits = 0;
  readyRate = 0;
  bootingUnits = 0;
  activeUnits = 0;
  noticedUnits = 0;
  drainingUnits = 0;
  /** Billed instance count per pool. */
  readonly billedPerPool: Int32Array;
  /** Units of the live instances per pool (leaving ones count until they terminate). */
  readonly liveUnitsPerPool: Float64Array;
  launched = 0;
  drained = 0;
  interrupted = 0;
  private readonly live = new Map<string, SimInstance>();
  private readonly bootQueue: SimInstance[] = [];
  private readonly stopQueue: SimInstance[] = [];
  /** Drain ends (now + drainSeconds) and reclaims (notice + noticeSeconds): two queues, each sorted. */
  private readonly drainEndQueue: SimInstance[] = [];
  private readonly reclaimQueue: SimInstance[] = [];
  private bootHead = 0;
  private stopHead = 0;
  private drainEndHead = 0;
  private reclaimHead = 0;
  private joinedRate = 0;
  private leftRate = 0;
  private seq = 0;
  private readonly leadMs: number;
  private readonly changeLogs: SimInstance[][] = [];

  constructor(
    private readonly config: SimFleetConfig,
    private readonly market: SpotMarket,
    private readonly rng: Random,
  ) {
    this.billedPerPool = new Int32Array(market.pools.length);
    this.liveUnitsPerPool = new Float64Array(market.pools.length);
    this.leadMs = (config.bootSeconds + config.joinSeconds + config.restoreSeconds) * 1000;
  }

  instances(): Iterable<SimInstance> {
    return this.live.values();
  }

  trackChanges(): SimFleetChangeLog {
    let log: SimInstance[] = [];
    this.changeLogs.push(log);
    const logs = this.changeLogs;
    const index = logs.length - 1;
    return {
      take: () => {
        const out = log;
        log = [];
        logs[index] = log;
        return out;
      },
    };
  }

  private changed(inst: SimInstance): void {
    for (const log of this.changeLogs) log.push(inst);
  }

  get(id: string): SimInstance | undefined {
    return this.live.get(id);
  }

  /** Launch lead time: boot + join + restore. */
  get leadTimeMs(): number {
    return this.leadMs;
  }

  /** Applies every transition due at or before `nowMs`. */
  advance(nowMs: number): void {
    while (
      this.bootHead < this.bootQueue.length &&
      (this.bootQueue[this.bootHead] as SimInstance).readyMs <= nowMs
    ) {
      const inst = this.bootQueue[this.bootHead++] as SimInstance;
      if (inst.state !== 'booting') continue;
      this.bootingUnits -= inst.noticeMs === undefined ? inst.units : 0;
      if (inst.noticeMs !== undefined) continue; // reclaimed before it joined: it never consumes
      inst.state = 'ready';
      this.readyUnits += inst.units;
      this.readyRate += inst.rate;
      this.joinedRate += inst.rate;
      this.changed(inst);
    }
    const stopOffsetMs =
      (this.config.noticeSeconds - Math.min(this.config.drainSeconds, this.config.noticeSeconds)) * 1000;
    while (this.stopHead < this.stopQueue.length) {
      const inst = this.stopQueue[this.stopHead] as SimInstance;
      if ((inst.noticeMs ?? 0) + stopOffsetMs > nowMs) break;
      this.stopHead++;
      if (inst.state === 'ready') this.beginDrain(inst, nowMs, inst.endMs as number, false);
    }
    this.drainEndHead = drainDue(this.drainEndQueue, this.drainEndHead, nowMs, (i) => this.terminate(i));
    this.reclaimHead = drainDue(this.reclaimQueue, this.reclaimHead, nowMs, (i) => this.terminate(i));
    this.bootHead = compact(this.bootQueue, this.bootHead);
    this.stopHead = compact(this.stopQueue, this.stopHead);
    this.drainEndHead = compact(this.drainEndQueue, this.drainEndHead);
    this.reclaimHead = compact(this.reclaimQueue, this.reclaimHead);
  }

  /**
   * Launches instances worth at least `units`, spread round-robin over the `launchPools` pools with
   * the lowest price per records/s right now (price-capacity-optimized, without its capacity signal).
   */
  launch(units: number, nowMs: number): number {
    if (units <= 0) return 0;
    const ranked = this.market.pools
      .map((p) => ({
        p,
        cost: this.market.price(p.index, nowMs) / (p.type.vcpu * p.type.recordsPerSecPerVcpu),
      }))
      .sort((a, b) => a.cost - b.cost)
      .slice(0, this.config.launchPools);
    let added = 0;
    for (let k = 0; added < units; k++) {
      const { p } = ranked[k % ranked.length] as (typeof ranked)[number];
      added += this.start(p, nowMs).units;
    }
    return added;
  }

  private start(p: SpotPool, nowMs: number): SimInstance {
    {
      const seq = ++this.seq;
      const inst: SimInstance = {
        id: `i-${seq.toString(16).padStart(8, '0')}`,
        seq,
        pool: p.index,
        type: p.type.name,
        az: p.az,
        units: p.type.vcpu,
        rate: p.type.vcpu * p.type.recordsPerSecPerVcpu,
        launchedMs: nowMs,
        readyMs: nowMs + this.leadMs,
        state: 'booting',
      };
      this.live.set(inst.id, inst);
      this.bootQueue.push(inst);
      this.billedPerPool[p.index] = (this.billedPerPool[p.index] ?? 0) + 1;
      this.liveUnitsPerPool[p.index] = (this.liveUnitsPerPool[p.index] ?? 0) + inst.units;
      this.bootingUnits += inst.units;
      this.activeUnits += inst.units;
      this.launched++;
      this.changed(inst);
      return inst;
    }
  }

  /**
   * Launches into named pools (`type@az` → units wanted there in total, as an EC2 Fleet steered per
   * pool): each pool gets what it lacks against the units of its live instances (leaving ones count
   * until they terminate, as in the fleet's target). Returns units added.
   */
  launchPerPool(perPool: Readonly<Record<string, number>>, nowMs: number): number {
    let added = 0;
    for (const p of this.market.pools) {
      const want = perPool[p.id] ?? 0;
      for (let gap = want - (this.liveUnitsPerPool[p.index] as number); gap > 0; gap -= p.type.vcpu) {
        this.start(p, nowMs);
        added += p.type.vcpu;
      }
    }
    return added;
  }

  /** Checkpoint-then-drain one instance (scale-in). Returns false if it is not a live, staying instance. */
  drain(id: string, nowMs: number): boolean {
    const inst = this.live.get(id);
    if (!inst || inst.noticeMs !== undefined || (inst.state !== 'ready' && inst.state !== 'booting'))
      return false;
    this.activeUnits -= inst.units;
    if (inst.state === 'booting') {
      // Not joined yet: nothing to drain, cancel the launch.
      this.bootingUnits -= inst.units;
      inst.endMs = nowMs;
      this.terminate(inst);
      return true;
    }
    this.drained++;
    this.beginDrain(inst, nowMs, nowMs + this.config.drainSeconds * 1000, true);
    return true;
  }

  /**
   * Chooses scale-in victims worth at most `units`: launches not yet joined first, then ready
   * instances from the most expensive pools, newest first (least state, least sunk warm-up).
   */
  chooseVictims(units: number, nowMs: number): string[] {
    const poolPrice = this.market.pools.map((p) => this.market.price(p.index, nowMs));
    const candidates: { inst: SimInstance; booting: number; cost: number }[] = [];
    for (const i of this.live.values()) {
      if (i.noticeMs !== undefined || (i.state !== 'booting' && i.state !== 'ready')) continue;
      candidates.push({
        inst: i,
        booting: i.state === 'booting' ? 0 : 1,
        cost: (poolPrice[i.pool] as number) / i.rate,
      });
    }
    candidates.sort(
      (a, b) => a.booting - b.booting || b.cost - a.cost || b.inst.launchedMs - a.inst.launchedMs,
    );
    const out: string[] = [];
    let removed = 0;
    for (const { inst } of candidates) {
      if (removed + inst.units > units) continue;
      out.push(inst.id);
      removed += inst.units;
      if (removed === units) break;
    }
    return out;
  }

  /**
   * An interruption event in `pool`: each of its staying instances gets the 2-minute warning with
   * probability `fraction`. A warned instance keeps consuming until it must drain, then is gone.
   */
  interrupt(pool: number, fraction: number, nowMs: number): number {
    let hit = 0;
    for (const inst of this.live.values()) {
      if (inst.pool !== pool || inst.noticeMs !== undefined) continue;
      if (inst.state !== 'booting' && inst.state !== 'ready') continue;
      if (this.rng.next() >= fraction) continue;
      hit++;
      inst.noticeMs = nowMs;
      inst.endMs = nowMs + this.config.noticeSeconds * 1000;
      this.activeUnits -= inst.units;
      if (inst.state === 'booting') this.bootingUnits -= inst.units;
      this.noticedUnits += inst.units;
      this.stopQueue.push(inst);
      this.reclaimQueue.push(inst);
      this.changed(inst);
    }
    this.interrupted += hit;
    return hit;
  }

  /** Capacity that joined or left since the last call (for rebalance pauses). */
  takeChanges(): CapacityChanges {
    const out = { joinedRate: this.joinedRate, leftRate: this.leftRate };
    this.joinedRate = 0;
    this.leftRate = 0;
    return out;
  }

  private beginDrain(inst: SimInstance, _nowMs: number, endMs: number, enqueue: boolean): void {
    this.readyUnits -= inst.units;
    this.readyRate -= inst.rate;
    this.leftRate += inst.rate;
    if (inst.noticeMs === undefined) this.drainingUnits += inst.units;
    inst.state = 'draining';
    inst.endMs = endMs;
    if (enqueue) this.drainEndQueue.push(inst);
    this.changed(inst);
  }

  private terminate(inst: SimInstance): void {
    if (inst.state === 'terminated') return;
    if (inst.state === 'ready') {
      this.readyUnits -= inst.units;
      this.readyRate -= inst.rate;
    }
    if (inst.noticeMs !== undefined) this.noticedUnits -= inst.units;
    else if (inst.state === 'draining') this.drainingUnits -= inst.units;
    inst.state = 'terminated';
    this.live.delete(inst.id);
    this.billedPerPool[inst.pool] = (this.billedPerPool[inst.pool] ?? 0) - 1;
    this.liveUnitsPerPool[inst.pool] = (this.liveUnitsPerPool[inst.pool] ?? 0) - inst.units;
    this.changed(inst);
  }
}

/** Terminates the queue's instances whose end is due; returns the new head. */
function drainDue(queue: SimInstance[], head: number, nowMs: number, end: (i: SimInstance) => void): number {
  let h = head;
  while (h < queue.length && ((queue[h] as SimInstance).endMs ?? 0) <= nowMs) end(queue[h++] as SimInstance);
  return h;
}

/** Drops consumed entries once there are many, so queues stay small over a year of steps. */
function compact(queue: SimInstance[], head: number): number {
  if (head < 4096) return head;
  queue.splice(0, head);
  return 0;
}
