import type { InstanceNotice, NoticeSource } from './notice-source.js';
import type { WorkerLog } from './worker-log.js';

export interface NoticeWatcherOptions {
  pollIntervalMs: number;
  /** Also drain on a rebalance recommendation (an early warning), not only on an interruption notice. */
  drainOnRebalance: boolean;
  /** Finish the drain this long before the instance goes away (the hand-off needs time too). */
  safetyMarginMs: number;
  /** Used when a rebalance recommendation carries no deadline. */
  rebalanceDrainBudgetMs: number;
}

/**
 * Polls the instance's notices and starts a drain once, with a deadline taken from the notice:
 * a spot interruption gives two minutes; the drain must end before them.
 */
export class NoticeWatcher {
  private timer: NodeJS.Timeout | undefined;
  private fired: InstanceNotice | undefined;
  private polling = false;

  constructor(
    private readonly source: NoticeSource,
    private readonly drain: (reason: string, deadlineMs: number) => Promise<unknown>,
    private readonly opts: NoticeWatcherOptions,
    private readonly log: WorkerLog,
    private readonly now: () => number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.pollOnce(), this.opts.pollIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One poll; returns the notice that triggered a drain, if this poll triggered one. */
  async pollOnce(): Promise<InstanceNotice | undefined> {
    if (this.fired || this.polling) return undefined;
    this.polling = true;
    try {
      const notice = await this.source.poll();
      if (!notice || (notice.kind === 'rebalance' && !this.opts.drainOnRebalance)) return undefined;
      this.fired = notice;
      this.stop();
      const deadlineMs =
        notice.kind === 'interruption'
          ? notice.timeMs - this.opts.safetyMarginMs
          : this.now() + this.opts.rebalanceDrainBudgetMs;
      const reason =
        notice.kind === 'interruption'
          ? `spot interruption notice (${notice.action ?? 'terminate'})`
          : 'rebalance recommendation';
      this.log.warn(
        {
          notice: notice.kind,
          action: notice.action,
          at: new Date(notice.timeMs).toISOString(),
          secondsLeft: (deadlineMs - this.now()) / 1000,
        },
        `${reason}: draining`,
      );
      void this.drain(reason, deadlineMs);
      return notice;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'instance metadata poll failed');
      return undefined;
    } finally {
      this.polling = false;
    }
  }
}
