import { describe, expect, it } from 'vitest';
import type { InstanceNotice, NoticeSource } from '../../../../aggregator/worker/notice-source.js';
import { NoticeWatcher } from '../../../../aggregator/worker/notice-watcher.js';

class ScriptedNotices implements NoticeSource {
  constructor(private readonly script: (InstanceNotice | undefined | Error)[]) {}
  polls = 0;
  async poll(): Promise<InstanceNotice | undefined> {
    const next = this.script[Math.min(this.polls++, this.script.length - 1)];
    if (next instanceof Error) throw next;
    return next;
  }
}

const silentLog = { info: () => {}, warn: () => {}, error: () => {} };
const opts = {
  pollIntervalMs: 1000,
  drainOnRebalance: true,
  safetyMarginMs: 10_000,
  rebalanceDrainBudgetMs: 60_000,
};

describe('NoticeWatcher', () => {
  it('drains once on an interruption notice, with a deadline before the instance goes away', async () => {
    const now = 1_000_000;
    const source = new ScriptedNotices([
      undefined,
      new Error('timeout'),
      { kind: 'interruption', action: 'terminate', timeMs: now + 120_000 },
    ]);
    const drains: [string, number][] = [];
    const w = new NoticeWatcher(
      source,
      async (r, d) => void drains.push([r, d]),
      opts,
      silentLog,
      () => now,
    );
    expect(await w.pollOnce()).toBeUndefined();
    expect(await w.pollOnce()).toBeUndefined();
    expect((await w.pollOnce())?.kind).toBe('interruption');
    expect(await w.pollOnce()).toBeUndefined();
    expect(drains).toEqual([['spot interruption notice (terminate)', now + 110_000]]);
  });

  it('drains on a rebalance recommendation only when configured to', async () => {
    const now = 5_000;
    const notice: InstanceNotice = { kind: 'rebalance', timeMs: now };
    const drains: number[] = [];
    const off = new NoticeWatcher(
      new ScriptedNotices([notice]),
      async (_r, d) => void drains.push(d),
      { ...opts, drainOnRebalance: false },
      silentLog,
      () => now,
    );
    expect(await off.pollOnce()).toBeUndefined();
    const on = new NoticeWatcher(
      new ScriptedNotices([notice]),
      async (_r, d) => void drains.push(d),
      opts,
      silentLog,
      () => now,
    );
    expect((await on.pollOnce())?.kind).toBe('rebalance');
    expect(drains).toEqual([now + 60_000]);
  });
});
