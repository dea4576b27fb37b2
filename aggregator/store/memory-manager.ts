/** Backpressure signal: `pause` above the high-water mark until usage falls under the low-water mark. */
export type MemoryPressure = 'ok' | 'pause';

export interface MemoryManagerOptions {
  /** Byte budget of all state on this worker. */
  budgetBytes: number;
  /** Fraction of the budget above which fetching pauses. */
  highWater: number;
  /** Fraction of the budget under which fetching resumes. */
  lowWater: number;
}

export interface MemoryReport {
  usedBytes: number;
  limitBytes: number;
  liveSeries: number;
  byPipeline: Record<string, number>;
  pressure: MemoryPressure;
}

/** One holder's share of the budget (an engine's state); charges roll up to its pipeline. */
export interface MemoryAccount {
  readonly pipeline: string;
  /** Records a change of the holder's bytes and live series (negative to release). */
  charge(bytesDelta: number, seriesDelta: number): void;
  /** Bytes currently charged by this holder. */
  bytes(): number;
  /** Returns everything this holder charged (state released); idempotent. */
  close(): void;
}

/**
 * Owns the worker's state budget. Every engine charges its typed storage to an account of its
 * pipeline; the worker polls {@link MemoryManager.pressure} and pauses fetching on `pause`.
 * Hysteresis (high/low water) keeps it from flapping around one threshold.
 */
export class MemoryManager {
  private used = 0;
  private series = 0;
  private readonly perPipeline = new Map<string, number>();
  private paused = false;

  constructor(private readonly opts: MemoryManagerOptions) {
    if (!(opts.lowWater < opts.highWater)) {
      throw new RangeError(`memory lowWater ${opts.lowWater} must be below highWater ${opts.highWater}`);
    }
  }

  /** A new account for one holder of `pipeline`'s state. */
  account(pipeline: string): MemoryAccount {
    let mine = 0;
    let mySeries = 0;
    let closed = false;
    const charge = (bytesDelta: number, seriesDelta: number): void => {
      if (closed) return;
      mine += bytesDelta;
      mySeries += seriesDelta;
      this.used += bytesDelta;
      this.series += seriesDelta;
      this.perPipeline.set(pipeline, (this.perPipeline.get(pipeline) ?? 0) + bytesDelta);
    };
    return {
      pipeline,
      charge,
      bytes: () => mine,
      close: () => {
        charge(-mine, -mySeries);
        closed = true;
      },
    };
  }

  usedBytes(): number {
    return this.used;
  }

  limitBytes(): number {
    return this.opts.budgetBytes;
  }

  liveSeries(): number {
    return this.series;
  }

  /** `pause` once usage exceeds highWater × budget, `ok` again once it is below lowWater × budget. */
  pressure(): MemoryPressure {
    const fraction = this.used / this.opts.budgetBytes;
    if (this.paused && fraction < this.opts.lowWater) this.paused = false;
    else if (!this.paused && fraction > this.opts.highWater) this.paused = true;
    return this.paused ? 'pause' : 'ok';
  }

  report(): MemoryReport {
    return {
      usedBytes: this.used,
      limitBytes: this.opts.budgetBytes,
      liveSeries: this.series,
      byPipeline: Object.fromEntries([...this.perPipeline].sort(([a], [b]) => (a < b ? -1 : 1))),
      pressure: this.pressure(),
    };
  }
}

/** An account outside any budget (tests, tools, a standalone engine). */
export function unlimitedAccount(pipeline: string): MemoryAccount {
  return new MemoryManager({ budgetBytes: Number.MAX_SAFE_INTEGER, highWater: 1, lowWater: 0.5 }).account(
    pipeline,
  );
}
